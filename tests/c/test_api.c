#define _DEFAULT_SOURCE 1
/* The C API as a C service uses it: a keyring (in memory and in a keyring
 * file under a key file and a passphrase), the key lifecycle, records in
 * binary and text form and into caller buffers, envelopes, data keys and
 * derived keys; each failure with its documented code, and no handle left
 * alive at the end. Run under ASan+UBSan and under valgrind by
 * scripts/c-tests.sh. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static strongroom_context *make_ctx(void) {
    strongroom_context *ctx = NULL;
    OK(strongroom_context_new(&ctx));
    OK(strongroom_context_add(ctx, S("table"), S("customers")));
    OK(strongroom_context_add(ctx, S("column"), S("email")));
    return ctx;
}

static void test_version_and_results(void) {
    CHECK(strcmp(strongroom_version(), STRONGROOM_VERSION_STRING) == 0);
    CHECK(strcmp(strongroom_result_name(STRONGROOM_RESULT_OK), "ok") == 0);
    CHECK(strcmp(strongroom_result_name(STRONGROOM_RESULT_AUTHENTICATION_FAILED),
                 "authentication_failed") == 0);
    CHECK(strcmp(strongroom_result_name(STRONGROOM_RESULT_ROLLBACK), "rollback") == 0);
    CHECK(strcmp(strongroom_result_name(STRONGROOM_RESULT_NULL_POINTER), "null_pointer") == 0);
    CHECK(strcmp(strongroom_result_name(9999), "unknown") == 0);
    CHECK(strstr(strongroom_result_message(STRONGROOM_RESULT_BUFFER_TOO_SMALL), "too small") != NULL);
    CHECK(strcmp(strongroom_result_message(9999), "unknown result code") == 0);
}

static void test_records(strongroom_keyring *k) {
    strongroom_context *ctx = make_ctx();
    strongroom_buffer *rec = NULL, *plain = NULL, *text = NULL, *bin = NULL;
    const char *email = "ada@example.com";
    OK(strongroom_record_encrypt(k, S("pii"), (const uint8_t *)email, strlen(email), ctx, &rec));
    CHECK(strongroom_buffer_len(rec) == strlen(email) + 49);
    CHECK(strongroom_record_len(strlen(email)) == strongroom_buffer_len(rec));
    CHECK(strongroom_record_plaintext_len(strongroom_buffer_len(rec)) == strlen(email));
    OK(strongroom_record_decrypt(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), ctx, &plain));
    CHECK(strongroom_buffer_len(plain) == strlen(email) &&
          memcmp(strongroom_buffer_data(plain), email, strlen(email)) == 0);

    /* Wrong context: authentication fails and *out stays as it was. */
    strongroom_context *other = NULL;
    OK(strongroom_context_new(&other));
    OK(strongroom_context_add(other, S("table"), S("orders")));
    strongroom_buffer *untouched = (strongroom_buffer *)0x1;
    EXPECT(strongroom_record_decrypt(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), other,
                                     &untouched),
           STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    CHECK(untouched == (strongroom_buffer *)0x1);
    /* NULL context is the empty context, which differs too. */
    EXPECT(strongroom_record_decrypt(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), NULL,
                                     &untouched),
           STRONGROOM_RESULT_AUTHENTICATION_FAILED);

    /* Text form round trip. */
    OK(strongroom_record_to_text(strongroom_buffer_data(rec), strongroom_buffer_len(rec), &text));
    CHECK(strongroom_buffer_len(text) > 4 && memcmp(strongroom_buffer_data(text), "sr1:", 4) == 0);
    OK(strongroom_record_from_text(strongroom_buffer_data(text), strongroom_buffer_len(text), &bin));
    CHECK(strongroom_buffer_len(bin) == strongroom_buffer_len(rec) &&
          memcmp(strongroom_buffer_data(bin), strongroom_buffer_data(rec), strongroom_buffer_len(rec)) == 0);
    EXPECT(strongroom_record_from_text(S("sr1:not base64!"), &untouched), STRONGROOM_RESULT_MALFORMED);

    /* Caller buffers: exact size works, one byte less is too small; a
     * failed decrypt leaves the buffer zeroed. */
    uint8_t out[256];
    size_t n = 0;
    OK(strongroom_record_encrypt_into(k, S("pii"), (const uint8_t *)email, strlen(email), ctx, out,
                                      strongroom_record_len(strlen(email)), &n));
    CHECK(n == strlen(email) + 49);
    uint8_t pt[64];
    size_t m = 0;
    EXPECT(strongroom_record_decrypt_into(k, out, n, ctx, pt, strlen(email) - 1, &m),
           STRONGROOM_RESULT_BUFFER_TOO_SMALL);
    memset(pt, 0xAA, sizeof pt);
    out[n - 1] ^= 1;
    EXPECT(strongroom_record_decrypt_into(k, out, n, ctx, pt, sizeof pt, &m),
           STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    int zeroed = 1;
    for (size_t i = 0; i < strlen(email); i++) zeroed &= pt[i] == 0;
    CHECK(zeroed);
    out[n - 1] ^= 1;
    OK(strongroom_record_decrypt_into(k, out, n, ctx, pt, sizeof pt, &m));
    CHECK(m == strlen(email) && memcmp(pt, email, m) == 0);
    /* In place is an overlap. */
    EXPECT(strongroom_record_decrypt_into(k, out, n, ctx, out, n, &m), STRONGROOM_RESULT_BUFFER_OVERLAP);

    /* Rewrap after a rotation moves to version 2; at the primary, nothing. */
    strongroom_buffer *moved = NULL, *same = NULL;
    bool changed = false;
    uint32_t v = 0;
    OK(strongroom_keyring_key_rotate(k, S("pii"), &v));
    CHECK(v == 2);
    OK(strongroom_record_rewrap(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), ctx, &moved,
                                &changed));
    CHECK(changed);
    OK(strongroom_record_rewrap(k, strongroom_buffer_data(moved), strongroom_buffer_len(moved), ctx, &same,
                                &changed));
    CHECK(!changed && strongroom_buffer_len(same) == strongroom_buffer_len(moved));

    /* Destroy version 1: the old record is gone, the rewrapped one lives. */
    OK(strongroom_keyring_key_destroy(k, S("pii"), 1));
    EXPECT(strongroom_record_decrypt(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), ctx,
                                     &untouched),
           STRONGROOM_RESULT_VERSION_DESTROYED);
    strongroom_buffer *again = NULL;
    OK(strongroom_record_decrypt(k, strongroom_buffer_data(moved), strongroom_buffer_len(moved), ctx,
                                 &again));

    strongroom_buffer *bufs[] = {rec, plain, text, bin, moved, same, again};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) strongroom_buffer_free(bufs[i]);
    strongroom_context_free(ctx);
    strongroom_context_free(other);
}

static void test_lifecycle_and_listing(strongroom_keyring *k) {
    uint32_t id = 0, v = 0;
    OK(strongroom_keyring_key_create(k, S("tenant/acme"), &id));
    CHECK(id != 0);
    EXPECT(strongroom_keyring_key_create(k, S("tenant/acme"), NULL), STRONGROOM_RESULT_KEY_EXISTS);
    EXPECT(strongroom_keyring_key_create(k, S(""), NULL), STRONGROOM_RESULT_INVALID_ARGUMENT);
    EXPECT(strongroom_keyring_key_rotate(k, S("nope"), &v), STRONGROOM_RESULT_UNKNOWN_KEY_NAME);
    OK(strongroom_keyring_key_rotate(k, S("tenant/acme"), &v));
    EXPECT(strongroom_keyring_key_disable(k, S("tenant/acme"), 2), STRONGROOM_RESULT_PRIMARY_VERSION);
    OK(strongroom_keyring_key_disable(k, S("tenant/acme"), 1));
    strongroom_version_info vi;
    OK(strongroom_keyring_version_info(k, S("tenant/acme"), 1, &vi));
    CHECK(vi.version == 1 && vi.state == 2);
    OK(strongroom_keyring_key_enable(k, S("tenant/acme"), 1));
    OK(strongroom_keyring_key_set_min_version(k, S("tenant/acme"), 2));
    EXPECT(strongroom_keyring_key_set_min_version(k, S("tenant/acme"), 3), STRONGROOM_RESULT_INVALID_ARGUMENT);
    EXPECT(strongroom_keyring_version_info(k, S("tenant/acme"), 9, &vi), STRONGROOM_RESULT_UNKNOWN_KEY_VERSION);
    OK(strongroom_keyring_key_set_rotation(k, S("tenant/acme"), 86400));
    bool due = true;
    OK(strongroom_keyring_key_is_due(k, S("tenant/acme"), 0, &due));
    CHECK(!due);
    OK(strongroom_keyring_key_is_due(k, S("tenant/acme"), UINT64_MAX / 2, &due));
    CHECK(due);

    size_t count = 0;
    OK(strongroom_keyring_key_count(k, &count));
    CHECK(count == 2);
    strongroom_key_info info;
    OK(strongroom_keyring_key_info(k, 0, &info));
    CHECK(strcmp(info.name, "pii") == 0 && info.name_len == 3 && info.primary_version == 2);
    OK(strongroom_keyring_key_info(k, 1, &info));
    CHECK(strcmp(info.name, "tenant/acme") == 0 && info.key_id == id && info.version_count == 2 &&
          info.min_decryption_version == 2 && info.rotation_period_seconds == 86400);
    EXPECT(strongroom_keyring_key_info(k, 2, &info), STRONGROOM_RESULT_INVALID_ARGUMENT);
}

static void test_envelopes_and_keys(strongroom_keyring *k) {
    strongroom_context *ctx = make_ctx();
    size_t len = 200000;
    uint8_t *data = (uint8_t *)malloc(len);
    for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(i * 31 + 7);
    strongroom_buffer *env = NULL, *plain = NULL, *moved = NULL, *untouched = NULL;
    OK(strongroom_envelope_encrypt(k, S("pii"), data, len, ctx, 4096, &env));
    uint64_t expect_len = 0;
    OK(strongroom_envelope_encrypted_len(len, 4096, 1, ctx, &expect_len));
    CHECK(expect_len == strongroom_buffer_len(env));
    strongroom_envelope_info ei;
    OK(strongroom_envelope_inspect(strongroom_buffer_data(env), strongroom_buffer_len(env), &ei));
    CHECK(ei.chunk_size == 4096 && ei.recipients == 1 && ei.plaintext_len == len);
    OK(strongroom_envelope_decrypt(k, strongroom_buffer_data(env), strongroom_buffer_len(env), ctx, &plain));
    CHECK(strongroom_buffer_len(plain) == len && memcmp(strongroom_buffer_data(plain), data, len) == 0);
    EXPECT(strongroom_envelope_decrypt(k, strongroom_buffer_data(env), strongroom_buffer_len(env) - 1, ctx,
                                       &untouched),
           STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    EXPECT(strongroom_envelope_encrypt(k, S("pii"), data, len, ctx, 10, &untouched),
           STRONGROOM_RESULT_INVALID_ARGUMENT);
    OK(strongroom_keyring_key_rotate(k, S("pii"), NULL));
    OK(strongroom_envelope_rewrap(k, strongroom_buffer_data(env), strongroom_buffer_len(env), ctx, &moved));
    CHECK(strongroom_buffer_len(moved) == strongroom_buffer_len(env));
    strongroom_buffer_free(plain);
    OK(strongroom_envelope_decrypt(k, strongroom_buffer_data(moved), strongroom_buffer_len(moved), ctx, &plain));
    CHECK(strongroom_buffer_len(plain) == len);

    /* Data keys: a key per subject, a record under it, then shredding. */
    strongroom_buffer *dk = NULL, *wrapped = NULL, *dk2 = NULL, *rec = NULL, *pt = NULL;
    OK(strongroom_datakey_generate(k, S("pii"), ctx, &dk, &wrapped));
    CHECK(strongroom_buffer_len(dk) == 32 && strongroom_buffer_len(wrapped) == 81);
    OK(strongroom_datakey_unwrap(k, strongroom_buffer_data(wrapped), strongroom_buffer_len(wrapped), ctx, &dk2));
    CHECK(memcmp(strongroom_buffer_data(dk), strongroom_buffer_data(dk2), 32) == 0);
    EXPECT(strongroom_datakey_unwrap(k, strongroom_buffer_data(wrapped), 80, ctx, &untouched),
           STRONGROOM_RESULT_MALFORMED);
    OK(strongroom_record_encrypt_with_key(strongroom_buffer_data(dk), 32, S("subject data"), ctx, &rec));
    OK(strongroom_record_decrypt_with_key(strongroom_buffer_data(dk2), 32, strongroom_buffer_data(rec),
                                          strongroom_buffer_len(rec), ctx, &pt));
    CHECK(strongroom_buffer_len(pt) == 12);
    EXPECT(strongroom_record_decrypt_with_key(strongroom_buffer_data(dk2), 31, strongroom_buffer_data(rec),
                                              strongroom_buffer_len(rec), ctx, &untouched),
           STRONGROOM_RESULT_INVALID_ARGUMENT);
    /* A standalone record is not a keyring record. */
    EXPECT(strongroom_record_decrypt(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), ctx, &untouched),
           STRONGROOM_RESULT_MALFORMED);

    /* Derived keys: stable per context and version. */
    strongroom_buffer *d1 = NULL, *d2 = NULL;
    uint32_t dv = 0;
    OK(strongroom_keyring_derive_key(k, S("pii"), ctx, &d1, &dv));
    OK(strongroom_keyring_derive_key_version(k, S("pii"), dv, ctx, &d2));
    CHECK(strongroom_buffer_len(d1) == 32 && memcmp(strongroom_buffer_data(d1), strongroom_buffer_data(d2), 32) == 0);
    EXPECT(strongroom_keyring_derive_key_version(k, S("pii"), 1, ctx, &untouched),
           STRONGROOM_RESULT_VERSION_DESTROYED);

    strongroom_buffer *bufs[] = {env, plain, moved, dk, wrapped, dk2, rec, pt, d1, d2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) strongroom_buffer_free(bufs[i]);
    strongroom_context_free(ctx);
    free(data);
}

/* Blind indexes (FORMAT.md 13): a definition built field by field, values
 * that find a row across a rotation, an indexed rewrap, strict parsing. */
static void test_blind_index(void) {
    strongroom_keyring *k = NULL;
    OK(strongroom_keyring_new(&k));
    OK(strongroom_keyring_key_create(k, S("pii"), NULL));
    strongroom_blind_index *idx = NULL, *untouched = NULL;
    EXPECT(strongroom_blind_index_new(S("email_idx"), S("pii"), 0, &untouched), STRONGROOM_RESULT_INVALID_ARGUMENT);
    EXPECT(strongroom_blind_index_new(S("email idx"), S("pii"), 32, &untouched), STRONGROOM_RESULT_INVALID_ARGUMENT);
    CHECK(untouched == NULL);
    OK(strongroom_blind_index_new(S("email_idx"), S("pii"), 32, &idx));
    const uint8_t *vals[1] = {(const uint8_t *)" Ada@Example.COM"};
    size_t lens[1] = {16};
    strongroom_buffer *v1 = NULL, *v2 = NULL, *all = NULL, *txt = NULL, *back = NULL;
    /* No field yet: nothing to compute. */
    EXPECT(strongroom_keyring_blind_index(k, idx, vals, lens, 1, 0, &v1), STRONGROOM_RESULT_INVALID_ARGUMENT);
    EXPECT(strongroom_blind_index_add_field(idx, S("email"), S("trim,lowercase")), STRONGROOM_RESULT_INVALID_ARGUMENT);
    OK(strongroom_blind_index_add_field(idx, S("email"), S("trim,nfc,casefold")));
    EXPECT(strongroom_blind_index_add_field(idx, S("email"), S("")), STRONGROOM_RESULT_INVALID_ARGUMENT);
    EXPECT(strongroom_blind_index_set_slow(idx, 7, 1, 1), STRONGROOM_RESULT_INVALID_ARGUMENT);
    CHECK(strongroom_blind_index_value_len(idx) == 9);
    OK(strongroom_keyring_blind_index(k, idx, vals, lens, 1, 0, &v1));
    CHECK(strongroom_buffer_len(v1) == 9 && strongroom_buffer_data(v1)[0] == 0x03);
    const uint8_t *same[1] = {(const uint8_t *)"ada@example.com"};
    size_t same_len[1] = {15};
    OK(strongroom_keyring_blind_index(k, idx, same, same_len, 1, 0, &v2));
    CHECK(memcmp(strongroom_buffer_data(v1), strongroom_buffer_data(v2), 9) == 0);
    strongroom_buffer_free(v2);
    EXPECT(strongroom_keyring_blind_index(k, idx, NULL, lens, 1, 0, &v2), STRONGROOM_RESULT_NULL_POINTER);
    EXPECT(strongroom_keyring_blind_index(k, idx, vals, lens, 0, 0, &v2), STRONGROOM_RESULT_INVALID_ARGUMENT);
    EXPECT(strongroom_keyring_blind_index(k, idx, vals, lens, 1, 0, NULL), STRONGROOM_RESULT_NULL_POINTER);

    /* The row: a record and its index value. Rotate: the lookup covers both
     * versions; the indexed rewrap moves the record and its value. */
    strongroom_buffer *rec = NULL, *moved = NULL, *mv = NULL;
    OK(strongroom_record_encrypt(k, S("pii"), (const uint8_t *)"ada@example.com", 15, NULL, &rec));
    OK(strongroom_keyring_key_rotate(k, S("pii"), NULL));
    size_t n = 0;
    OK(strongroom_keyring_blind_index_lookup(k, idx, same, same_len, 1, &all, &n));
    CHECK(n == 2 && strongroom_buffer_len(all) == 18);
    CHECK(memcmp(strongroom_buffer_data(all) + 9, strongroom_buffer_data(v1), 9) == 0);
    OK(strongroom_record_rewrap_indexed(k, idx, strongroom_buffer_data(rec), strongroom_buffer_len(rec), NULL, &moved,
                                        &mv));
    CHECK(memcmp(strongroom_buffer_data(all), strongroom_buffer_data(mv), 9) == 0);
    uint32_t version = 0;
    OK(strongroom_blind_index_value_version(idx, strongroom_buffer_data(mv), 9, &version));
    CHECK(version == 2);
    OK(strongroom_keyring_key_destroy(k, S("pii"), 1));
    strongroom_buffer_free(all);
    OK(strongroom_keyring_blind_index_lookup(k, idx, same, same_len, 1, &all, &n));
    CHECK(n == 1);
    EXPECT(strongroom_keyring_blind_index(k, idx, same, same_len, 1, 1, &v2), STRONGROOM_RESULT_VERSION_DESTROYED);

    /* Text form and strict parsing. */
    OK(strongroom_blind_index_value_to_text(idx, strongroom_buffer_data(mv), 9, &txt));
    CHECK(strongroom_buffer_len(txt) > 5 && memcmp(strongroom_buffer_data(txt), "sbi1:", 5) == 0);
    OK(strongroom_blind_index_value_from_text(idx, strongroom_buffer_data(txt), strongroom_buffer_len(txt), &back));
    CHECK(strongroom_buffer_len(back) == 9 && memcmp(strongroom_buffer_data(back), strongroom_buffer_data(mv), 9) == 0);
    EXPECT(strongroom_blind_index_value_version(idx, strongroom_buffer_data(mv), 8, &version),
           STRONGROOM_RESULT_MALFORMED);
    EXPECT(strongroom_blind_index_value_version(idx, strongroom_buffer_data(rec), 9, &version),
           STRONGROOM_RESULT_UNSUPPORTED_FORMAT);
    EXPECT(strongroom_blind_index_value_from_text(idx, S("sbi1:!"), &v2), STRONGROOM_RESULT_MALFORMED);
    CHECK(strongroom_blind_index_recommended_bits(100000, 1.0) == 17);
    CHECK(strongroom_blind_index_recommended_bits(100000, 0.0) == 0);

    /* A slow compound index. */
    strongroom_blind_index *slow = NULL;
    OK(strongroom_blind_index_new(S("name_year"), S("pii"), 20, &slow));
    OK(strongroom_blind_index_add_field(slow, S("last_name"), S("nfc,casefold")));
    OK(strongroom_blind_index_add_field(slow, S("birth_date"), S("digits,first:4")));
    OK(strongroom_blind_index_set_slow(slow, 64, 1, 1));
    const uint8_t *parts[2] = {(const uint8_t *)"Lovelace", (const uint8_t *)"1815-12-10"};
    size_t part_lens[2] = {8, 10};
    strongroom_buffer *sv = NULL;
    OK(strongroom_keyring_blind_index(k, slow, parts, part_lens, 2, 0, &sv));
    CHECK(strongroom_buffer_len(sv) == 8);
    EXPECT(strongroom_record_rewrap_indexed(k, slow, strongroom_buffer_data(moved), strongroom_buffer_len(moved), NULL,
                                            &v2, &v2),
           STRONGROOM_RESULT_INVALID_ARGUMENT);

    strongroom_buffer *bufs[] = {v1, all, rec, moved, mv, txt, back, sv};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) strongroom_buffer_free(bufs[i]);
    strongroom_blind_index_free(slow);
    strongroom_blind_index_free(idx);
    strongroom_blind_index_free(idx);
    EXPECT(strongroom_blind_index_value_version(idx, NULL, 0, &version), STRONGROOM_RESULT_INVALID_HANDLE);
    strongroom_keyring_free(k);
}

static void write_key_file(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    uint8_t key[32];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)(0x42 + i); /* TEST KEY */
    CHECK(write(fd, key, sizeof key) == (ssize_t)sizeof key);
    close(fd);
}

static void test_keyring_files(const char *dir) {
    char path[512], key[512], loose[512];
    snprintf(path, sizeof path, "%s/keyring.srk", dir);
    snprintf(key, sizeof key, "%s/root.key", dir);
    snprintf(loose, sizeof loose, "%s/loose.key", dir);
    write_key_file(key);
    strongroom_keyring *k = NULL, *k2 = NULL, *untouched = NULL;
    EXPECT(strongroom_keyring_open_key_file((const uint8_t *)path, strlen(path), (const uint8_t *)key,
                                            strlen(key), &untouched),
           STRONGROOM_RESULT_NOT_FOUND);
    OK(strongroom_keyring_create_key_file((const uint8_t *)path, strlen(path), (const uint8_t *)key,
                                          strlen(key), &k));
    EXPECT(strongroom_keyring_create_key_file((const uint8_t *)path, strlen(path), (const uint8_t *)key,
                                              strlen(key), &untouched),
           STRONGROOM_RESULT_ALREADY_EXISTS);
    OK(strongroom_keyring_key_create(k, S("files"), NULL));
    /* Another handle on the same file sees the change after a reload. */
    OK(strongroom_keyring_open_key_file((const uint8_t *)path, strlen(path), (const uint8_t *)key, strlen(key),
                                        &k2));
    OK(strongroom_keyring_key_rotate(k, S("files"), NULL));
    strongroom_key_info info;
    OK(strongroom_keyring_key_info(k2, 0, &info));
    CHECK(info.primary_version == 1);
    OK(strongroom_keyring_reload(k2));
    OK(strongroom_keyring_key_info(k2, 0, &info));
    CHECK(info.primary_version == 2);
    /* A key file others can read is refused. */
    write_key_file(loose);
    chmod(loose, 0644);
    EXPECT(strongroom_keyring_open_key_file((const uint8_t *)path, strlen(path), (const uint8_t *)loose,
                                            strlen(loose), &untouched),
           STRONGROOM_RESULT_INSECURE_PERMISSIONS);
    /* The wrong key: authentication fails. */
    chmod(loose, 0600);
    unlink(loose);
    {
        int fd = open(loose, O_WRONLY | O_CREAT | O_EXCL, 0600);
        uint8_t other[32];
        memset(other, 0x17, sizeof other); /* TEST KEY */
        CHECK(write(fd, other, sizeof other) == (ssize_t)sizeof other);
        close(fd);
    }
    EXPECT(strongroom_keyring_open_key_file((const uint8_t *)path, strlen(path), (const uint8_t *)loose,
                                            strlen(loose), &untouched),
           STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    CHECK(untouched == NULL);
    strongroom_keyring_free(k);
    strongroom_keyring_free(k2);

    /* A passphrase keyring (Argon2id at the default costs). */
    char ppath[512];
    snprintf(ppath, sizeof ppath, "%s/pass.srk", dir);
    strongroom_keyring *p = NULL;
    OK(strongroom_keyring_create_passphrase((const uint8_t *)ppath, strlen(ppath), S("correct horse"), &p));
    OK(strongroom_keyring_key_create(p, S("k"), NULL));
    strongroom_keyring_free(p);
    p = NULL;
    EXPECT(strongroom_keyring_open_passphrase((const uint8_t *)ppath, strlen(ppath), S("wrong horse"), &p),
           STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    OK(strongroom_keyring_open_passphrase((const uint8_t *)ppath, strlen(ppath), S("correct horse"), &p));
    size_t count = 0;
    OK(strongroom_keyring_key_count(p, &count));
    CHECK(count == 1);
    strongroom_keyring_free(p);
}

static void test_import(strongroom_keyring *k) {
    uint8_t m1[32], m2[32];
    memset(m1, 0x11, sizeof m1); /* TEST KEY MATERIAL */
    memset(m2, 0x22, sizeof m2);
    strongroom_version_import versions[3] = {
        {3, 1700000000, NULL},
        {1, 1700000100, m1},
        {1, 1700000200, m2},
    };
    OK(strongroom_keyring_key_import(k, S("imported"), 0x0badf00d, 1700000000, 3, 2, versions, 3));
    strongroom_version_info vi;
    OK(strongroom_keyring_version_info(k, S("imported"), 1, &vi));
    CHECK(vi.state == 3);
    versions[0].material = m1; /* material on a destroyed version */
    EXPECT(strongroom_keyring_key_import(k, S("imported2"), 0x0badf00e, 0, 3, 2, versions, 3),
           STRONGROOM_RESULT_INVALID_ARGUMENT);
    versions[0].material = NULL;
    EXPECT(strongroom_keyring_key_import(k, S("imported3"), 0x0badf00d, 0, 3, 2, versions, 3),
           STRONGROOM_RESULT_KEY_EXISTS);
}


static void test_streams(strongroom_keyring *k) {
    strongroom_context *ctx = make_ctx();
    size_t len = 300000;
    uint8_t *data = (uint8_t *)malloc(len);
    for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(i * 13 + 5);
    const uint8_t *names[1] = {(const uint8_t *)"pii"};
    size_t lens[1] = {3};
    strongroom_envelope_encryptor *enc = NULL;
    strongroom_buffer *header = NULL, *plain = NULL;
    OK(strongroom_envelope_encryptor_new(k, names, lens, 1, ctx, 1000, &enc, &header));
    /* Pieces of uneven sizes, into an envelope buffer sized by the bounds. */
    uint64_t total = 0;
    OK(strongroom_envelope_encrypted_len(len, 1000, 1, ctx, &total));
    uint8_t *env = (uint8_t *)malloc((size_t)total);
    size_t at = strongroom_buffer_len(header);
    memcpy(env, strongroom_buffer_data(header), at);
    size_t piece = 1;
    for (size_t off = 0; off < len; off += piece, piece = piece * 3 % 7001 + 1) {
        size_t n = off + piece > len ? len - off : piece;
        size_t bound = strongroom_envelope_encryptor_update_bound(enc, n), wrote = 0;
        CHECK(at + bound <= total);
        OK(strongroom_envelope_encryptor_update(enc, data + off, n, env + at, bound, &wrote));
        at += wrote;
    }
    size_t wrote = 0;
    uint8_t tiny[8];
    EXPECT(strongroom_envelope_encryptor_finish(enc, tiny, sizeof tiny, &wrote), STRONGROOM_RESULT_BUFFER_TOO_SMALL);
    OK(strongroom_envelope_encryptor_finish(enc, env + at, strongroom_envelope_encryptor_finish_bound(enc), &wrote));
    at += wrote;
    CHECK(at == total);
    EXPECT(strongroom_envelope_encryptor_update(enc, data, 1, env, 0, &wrote), STRONGROOM_RESULT_INVALID_ARGUMENT);
    OK(strongroom_envelope_decrypt(k, env, at, ctx, &plain));
    CHECK(strongroom_buffer_len(plain) == len && memcmp(strongroom_buffer_data(plain), data, len) == 0);

    /* Decrypt in pieces; the output is exact, and released chunk by chunk. */
    strongroom_envelope_decryptor *dec = NULL;
    OK(strongroom_envelope_decryptor_new(k, ctx, &dec));
    uint8_t *back = (uint8_t *)malloc(len + 1);
    size_t got = 0;
    piece = 1;
    for (size_t off = 0; off < at; off += piece, piece = piece * 5 % 3001 + 1) {
        size_t n = off + piece > at ? at - off : piece;
        size_t bound = strongroom_envelope_decryptor_update_bound(dec, n), out_n = 0;
        uint8_t *tmp = (uint8_t *)malloc(bound + 1);
        OK(strongroom_envelope_decryptor_update(dec, env + off, n, tmp, bound, &out_n));
        CHECK(got + out_n <= len);
        memcpy(back + got, tmp, out_n);
        got += out_n;
        free(tmp);
    }
    size_t fb = strongroom_envelope_decryptor_finish_bound(dec), out_n = 0;
    uint8_t *tmp = (uint8_t *)malloc(fb + 1);
    OK(strongroom_envelope_decryptor_finish(dec, tmp, fb, &out_n));
    memcpy(back + got, tmp, out_n);
    got += out_n;
    free(tmp);
    CHECK(got == len && memcmp(back, data, len) == 0);
    strongroom_envelope_decryptor_free(dec);

    /* Truncated: every chunk before the cut is released, finish refuses. */
    OK(strongroom_envelope_decryptor_new(k, ctx, &dec));
    size_t cut = at - 500;
    uint8_t *sink = (uint8_t *)malloc(cut + 1);
    OK(strongroom_envelope_decryptor_update(dec, env, cut, sink, strongroom_envelope_decryptor_update_bound(dec, cut),
                                            &out_n));
    uint8_t last[2048];
    memset(last, 0x55, sizeof last);
    EXPECT(strongroom_envelope_decryptor_finish(dec, last, sizeof last, &out_n), STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    int wiped = 1;
    for (size_t i = 0; i < sizeof last; i++) wiped &= last[i] == 0;
    CHECK(wiped);
    strongroom_envelope_decryptor_free(dec);

    /* Tampered: the chunk fails, the output is wiped, the stream is dead. */
    OK(strongroom_envelope_decryptor_new(k, ctx, &dec));
    env[at / 2] ^= 1;
    EXPECT(strongroom_envelope_decryptor_update(dec, env, at, sink, cut, &out_n), STRONGROOM_RESULT_BUFFER_TOO_SMALL);
    uint8_t *big = (uint8_t *)malloc(at);
    memset(big, 0x55, at);
    EXPECT(strongroom_envelope_decryptor_update(dec, env, at, big, at, &out_n), STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    wiped = 1;
    for (size_t i = 0; i < at; i++) wiped &= big[i] == 0;
    CHECK(wiped);
    EXPECT(strongroom_envelope_decryptor_update(dec, env, 1, big, at, &out_n), STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    strongroom_envelope_decryptor_free(dec);
    strongroom_envelope_decryptor_free(dec); /* double free: nothing */

    strongroom_envelope_encryptor_free(enc);
    strongroom_buffer_free(header);
    strongroom_buffer_free(plain);
    strongroom_context_free(ctx);
    free(big);
    free(sink);
    free(back);
    free(env);
    free(data);
}

/* A test KMS (NOT SECURE, for the callback plumbing only): the sealing
 * key XOR a fixed key, then an FNV-1a checksum of params and aad, so that
 * unwrap fails when the header changes. */
struct test_kms {
    int fail_wrap;
    int calls;
};

static uint64_t fnv(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < an; i++) h = (h ^ a[i]) * 1099511628211ull;
    for (size_t i = 0; i < bn; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static strongroom_result kms_wrap(void *user_data, const uint8_t *params, size_t params_len, const uint8_t *key,
                                  size_t key_len, const uint8_t *aad, size_t aad_len, const uint8_t *nonce,
                                  uint8_t *out, size_t out_cap, size_t *out_len) {
    struct test_kms *kms = (struct test_kms *)user_data;
    (void)nonce;
    kms->calls++;
    if (kms->fail_wrap || key_len != 32 || out_cap < 40) return STRONGROOM_RESULT_KEY_PROVIDER;
    for (size_t i = 0; i < 32; i++) out[i] = key[i] ^ (uint8_t)(0x5c + i);
    uint64_t h = fnv(params, params_len, aad, aad_len);
    memcpy(out + 32, &h, 8);
    *out_len = 40;
    return STRONGROOM_RESULT_OK;
}

static strongroom_result kms_unwrap(void *user_data, const uint8_t *params, size_t params_len,
                                    const uint8_t *wrapped, size_t wrapped_len, const uint8_t *aad, size_t aad_len,
                                    uint8_t *out_key) {
    struct test_kms *kms = (struct test_kms *)user_data;
    kms->calls++;
    uint64_t h = fnv(params, params_len, aad, aad_len);
    if (wrapped_len != 40 || memcmp(wrapped + 32, &h, 8) != 0) return STRONGROOM_RESULT_AUTHENTICATION_FAILED;
    for (size_t i = 0; i < 32; i++) out_key[i] = wrapped[i] ^ (uint8_t)(0x5c + i);
    return STRONGROOM_RESULT_OK;
}

static strongroom_result kms_refuse(void *user_data, const uint8_t *params, size_t params_len,
                                    const uint8_t *wrapped, size_t wrapped_len, const uint8_t *aad, size_t aad_len,
                                    uint8_t *out_key) {
    (void)user_data, (void)params, (void)params_len, (void)wrapped, (void)wrapped_len, (void)aad, (void)aad_len;
    (void)out_key;
    return STRONGROOM_RESULT_IO;
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = (uint8_t *)malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

static void test_provider(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/kms.srk", dir);
    struct test_kms kms = {0, 0};
    strongroom_key_provider provider = {&kms, (const uint8_t *)"kms-key-7", 9, kms_wrap, kms_unwrap};
    strongroom_keyring *k = NULL, *untouched = NULL;
    OK(strongroom_keyring_create_provider((const uint8_t *)path, strlen(path), &provider, &k));
    OK(strongroom_keyring_key_create(k, S("pii"), NULL));
    CHECK(kms.calls >= 2);
    strongroom_buffer *rec = NULL, *plain = NULL;
    OK(strongroom_record_encrypt(k, S("pii"), S("via the KMS"), NULL, &rec));
    strongroom_keyring_free(k);
    k = NULL;
    OK(strongroom_keyring_open_provider((const uint8_t *)path, strlen(path), &provider, &k));
    OK(strongroom_record_decrypt(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), NULL, &plain));
    CHECK(strongroom_buffer_len(plain) == 11);
    /* A provider that refuses to wrap: the documented code, and the
     * keyring file is untouched. */
    size_t before_len = 0, after_len = 0;
    uint8_t *before = slurp(path, &before_len);
    kms.fail_wrap = 1;
    EXPECT(strongroom_keyring_key_rotate(k, S("pii"), NULL), STRONGROOM_RESULT_KEY_PROVIDER);
    uint8_t *after = slurp(path, &after_len);
    CHECK(before && after && before_len == after_len && memcmp(before, after, before_len) == 0);
    strongroom_key_info info;
    OK(strongroom_keyring_key_info(k, 0, &info));
    CHECK(info.primary_version == 1);
    kms.fail_wrap = 0;
    /* Unwrap refusing or failing authentication. */
    strongroom_key_provider refuse = {&kms, (const uint8_t *)"kms-key-7", 9, kms_wrap, kms_refuse};
    EXPECT(strongroom_keyring_open_provider((const uint8_t *)path, strlen(path), &refuse, &untouched),
           STRONGROOM_RESULT_KEY_PROVIDER);
    strongroom_key_provider other = {&kms, (const uint8_t *)"kms-key-8", 9, kms_wrap, kms_unwrap};
    OK(strongroom_keyring_open_provider((const uint8_t *)path, strlen(path), &other, &untouched));
    strongroom_keyring_free(untouched); /* params come from the file: key 7 opens */
    untouched = NULL;
    strongroom_key_provider no_wrap = {&kms, NULL, 0, NULL, kms_unwrap};
    EXPECT(strongroom_keyring_open_provider((const uint8_t *)path, strlen(path), &no_wrap, &untouched),
           STRONGROOM_RESULT_NULL_POINTER);
    CHECK(untouched == NULL);
    free(before);
    free(after);
    strongroom_buffer_free(rec);
    strongroom_buffer_free(plain);
    strongroom_keyring_free(k);
}

struct audit_log {
    int count;
    char lines[16][96];
};

static void on_event(const strongroom_audit_event *e, void *user_data) {
    struct audit_log *log = (struct audit_log *)user_data;
    if (log->count < 16)
        snprintf(log->lines[log->count], sizeof log->lines[0], "%s %s %.*s v%u %s", e->action_name, e->object_name,
                 (int)e->key_name_len, e->key_name ? (const char *)e->key_name : "", e->version,
                 strongroom_result_name(e->result));
    log->count++;
}

static void test_audit(void) {
    strongroom_keyring *k = NULL;
    struct audit_log log;
    memset(&log, 0, sizeof log);
    OK(strongroom_keyring_new(&k));
    OK(strongroom_keyring_key_create(k, S("pii"), NULL));
    OK(strongroom_keyring_set_audit(k, on_event, &log));
    EXPECT(strongroom_keyring_set_audit(k, NULL, &log), STRONGROOM_RESULT_NULL_POINTER);
    OK(strongroom_keyring_key_rotate(k, S("pii"), NULL));
    strongroom_buffer *rec = NULL, *plain = NULL;
    OK(strongroom_record_encrypt(k, S("pii"), S("audited"), NULL, &rec));
    strongroom_context *other = NULL;
    OK(strongroom_context_new(&other));
    OK(strongroom_context_add(other, S("a"), S("b")));
    EXPECT(strongroom_record_decrypt(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), other, &plain),
           STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    CHECK(log.count == 3);
    CHECK(strcmp(log.lines[0], "key_rotated key pii v2 ok") == 0);
    CHECK(strcmp(log.lines[1], "encrypt record pii v2 ok") == 0);
    CHECK(strcmp(log.lines[2], "decrypt record pii v2 authentication_failed") == 0);
    for (int i = 0; i < log.count && i < 16; i++) CHECK(strstr(log.lines[i], "audited") == NULL);
    if (log.count != 3)
        for (int i = 0; i < log.count && i < 16; i++) fprintf(stderr, "audit: %s\n", log.lines[i]);
    strongroom_buffer_free(rec);
    strongroom_context_free(other);
    strongroom_keyring_free(k);
}

static void test_files(const char *dir) {
    char plain[512], sealed[512], back[512], cut[512];
    snprintf(plain, sizeof plain, "%s/data.bin", dir);
    snprintf(sealed, sizeof sealed, "%s/data.sr", dir);
    snprintf(back, sizeof back, "%s/data.out", dir);
    snprintf(cut, sizeof cut, "%s/cut.out", dir);
    size_t len = 500000;
    uint8_t *data = (uint8_t *)malloc(len);
    for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(i * 17 + 1);
    FILE *f = fopen(plain, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    if (f) fclose(f);
    strongroom_keyring *k = NULL;
    OK(strongroom_keyring_new(&k));
    OK(strongroom_keyring_key_create(k, S("files"), NULL));
    strongroom_context *ctx = make_ctx();
#define P(x) (const uint8_t *)(x), strlen(x)
    OK(strongroom_file_encrypt(k, S("files"), P(plain), P(sealed), ctx, 4096, 2));
    OK(strongroom_file_decrypt(k, P(sealed), P(back), ctx, 2));
    size_t got_len = 0;
    uint8_t *got = slurp(back, &got_len);
    CHECK(got && got_len == len && memcmp(got, data, len) == 0);
    free(got);
    size_t moved = 99;
    OK(strongroom_file_rewrap(k, P(sealed), &moved));
    CHECK(moved == 0);
    OK(strongroom_keyring_key_rotate(k, S("files"), NULL));
    OK(strongroom_file_rewrap(k, P(sealed), &moved));
    CHECK(moved == 1);
    OK(strongroom_file_decrypt(k, P(sealed), P(back), ctx, 1));
    /* A truncated envelope: authentication fails, nothing at the output. */
    size_t sl = 0;
    uint8_t *env = slurp(sealed, &sl);
    f = fopen(sealed, "wb");
    CHECK(f && fwrite(env, 1, sl - 7, f) == sl - 7);
    if (f) fclose(f);
    EXPECT(strongroom_file_decrypt(k, P(sealed), P(cut), ctx, 1), STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    CHECK(access(cut, F_OK) != 0);
    EXPECT(strongroom_file_encrypt(k, S("nope"), P(plain), P(cut), ctx, 0, 1), STRONGROOM_RESULT_UNKNOWN_KEY_NAME);
    CHECK(access(cut, F_OK) != 0);
    EXPECT(strongroom_file_encrypt(k, S("files"), P("/nonexistent/in"), P(cut), ctx, 0, 1), STRONGROOM_RESULT_IO);
    EXPECT(strongroom_file_encrypt(k, S("files"), P(plain), P(cut), ctx, 0, 65), STRONGROOM_RESULT_INVALID_ARGUMENT);
    CHECK(access(cut, F_OK) != 0);
    /* Random access into the (rewrapped, intact) copy. */
    OK(strongroom_file_encrypt(k, S("files"), P(plain), P(sealed), ctx, 4096, 1));
    strongroom_envelope_reader *r = NULL, *untouched_r = NULL;
    OK(strongroom_envelope_reader_open(k, P(sealed), ctx, &r));
    CHECK(strongroom_envelope_reader_len(r) == len);
    uint8_t window[10000];
    size_t n = 0;
    OK(strongroom_envelope_reader_read_at(r, 123457, window, sizeof window, &n));
    CHECK(n == sizeof window && memcmp(window, data + 123457, n) == 0);
    OK(strongroom_envelope_reader_read_at(r, len - 5, window, sizeof window, &n));
    CHECK(n == 5 && memcmp(window, data + len - 5, 5) == 0);
    OK(strongroom_envelope_reader_read_at(r, len + 10, window, sizeof window, &n));
    CHECK(n == 0);
    strongroom_envelope_reader_free(r);
    /* A flipped byte in chunk 40: reads there fail and wipe; others work. */
    uint8_t *copy = slurp(sealed, &sl);
    size_t header = sl - len - ((len + 4095) / 4096) * 16;
    copy[header + 40 * (4096 + 16) + 100] ^= 1;
    f = fopen(sealed, "wb");
    CHECK(f && fwrite(copy, 1, sl, f) == sl);
    if (f) fclose(f);
    OK(strongroom_envelope_reader_open(k, P(sealed), ctx, &r));
    memset(window, 0x55, sizeof window);
    EXPECT(strongroom_envelope_reader_read_at(r, 40 * 4096, window, 100, &n), STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    int wiped = 1;
    for (size_t i = 0; i < 100; i++) wiped &= window[i] == 0;
    CHECK(wiped);
    OK(strongroom_envelope_reader_read_at(r, 0, window, 4096, &n));
    CHECK(n == 4096 && memcmp(window, data, n) == 0);
    strongroom_envelope_reader_free(r);
    strongroom_context *other = NULL;
    OK(strongroom_context_new(&other));
    EXPECT(strongroom_envelope_reader_open(k, P(sealed), other, &untouched_r), STRONGROOM_RESULT_AUTHENTICATION_FAILED);
    CHECK(untouched_r == NULL);
    strongroom_context_free(other);
    free(copy);
#undef P
    free(env);
    free(data);
    strongroom_context_free(ctx);
    strongroom_keyring_free(k);
}

int main(void) {
    test_version_and_results();
    strongroom_keyring *k = NULL;
    OK(strongroom_keyring_new(&k));
    OK(strongroom_keyring_key_create(k, S("pii"), NULL));
    test_records(k);
    test_lifecycle_and_listing(k);
    test_envelopes_and_keys(k);
    test_import(k);
    test_streams(k);
    strongroom_keyring_free(k);
    test_audit();
    test_blind_index();
    /* A freed handle is refused, and a second free does nothing. */
    size_t count = 0;
    EXPECT(strongroom_keyring_key_count(k, &count), STRONGROOM_RESULT_INVALID_HANDLE);
    strongroom_keyring_free(k);

    char dir[] = "/tmp/strongroom-c-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    test_keyring_files(dir);
    test_provider(dir);
    test_files(dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);

    CHECK(strongroom_test_live_handles() == 0);
    return finish("test_api");
}
