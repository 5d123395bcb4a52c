/* Robustness of every exported function (issue #12): each pointer argument
 * NULL in turn, zero and SIZE_MAX lengths, a freed handle, a handle of the
 * wrong kind, a double free, a too-small output buffer, and a panic inside
 * the boundary. Each case must return its documented result, with no crash
 * and no sanitizer report.
 *
 * Table-driven: CASES lists one entry per exported function, and
 * scripts/c-tests.sh fails if the header declares a function this table
 * does not name, so a new function cannot be missed. */
#define _DEFAULT_SOURCE 1
#include <fcntl.h>
#include <unistd.h>

#include "check.h"

#define R(name) STRONGROOM_RESULT_##name

/* The fixture: live handles and valid inputs. */
static strongroom_keyring *k;
static strongroom_context *ctx;
static strongroom_buffer *rec, *env, *wrapped, *dk, *text;
/* Handles freed before the cases run. */
static strongroom_keyring *freed_k;
static strongroom_context *freed_ctx;
static strongroom_buffer *freed_buf;
static uint8_t out_bytes[4096];
static size_t out_len;
static strongroom_buffer *out_buf;
static strongroom_keyring *out_k;
static strongroom_context *out_ctx;
static char dir[] = "/tmp/strongroom-robust-XXXXXX";
static char keyring_path[512], key_path[512];

#define NAME S("pii")
#define RECP strongroom_buffer_data(rec), strongroom_buffer_len(rec)
#define ENVP strongroom_buffer_data(env), strongroom_buffer_len(env)
#define WRAPP strongroom_buffer_data(wrapped), strongroom_buffer_len(wrapped)
#define DKP strongroom_buffer_data(dk), strongroom_buffer_len(dk)
#define KPATH (const uint8_t *)keyring_path, strlen(keyring_path)
#define KFILE (const uint8_t *)key_path, strlen(key_path)
/* A wrong-kind handle: a live buffer passed where a keyring goes. */
#define WRONG_K ((const strongroom_keyring *)rec)
#define WRONG_CTX ((const strongroom_context *)rec)

static const uint8_t one = 1;
#define BIG ((size_t)SIZE_MAX)

static int cases = 0;
#define CASE(call, want) \
    do {                 \
        cases++;         \
        EXPECT(call, want); \
    } while (0)

static void c_version(void) {
    cases++;
    CHECK(strongroom_version() != NULL && strlen(strongroom_version()) > 0);
}
static void c_result_message(void) {
    cases += 3;
    CHECK(strongroom_result_message(0) != NULL);
    CHECK(strongroom_result_message(UINT32_MAX) != NULL);
    CHECK(strcmp(strongroom_result_message(201), strongroom_result_message(202)) != 0);
}
static void c_result_name(void) {
    cases += 2;
    CHECK(strcmp(strongroom_result_name(201), "panic") == 0);
    CHECK(strcmp(strongroom_result_name(UINT32_MAX), "unknown") == 0);
}
static void c_buffer_data(void) {
    cases += 3;
    CHECK(strongroom_buffer_data(NULL) == NULL);
    CHECK(strongroom_buffer_data(freed_buf) == NULL);
    CHECK(strongroom_buffer_data((const strongroom_buffer *)k) == NULL);
}
static void c_buffer_len(void) {
    cases += 3;
    CHECK(strongroom_buffer_len(NULL) == 0);
    CHECK(strongroom_buffer_len(freed_buf) == 0);
    CHECK(strongroom_buffer_len((const strongroom_buffer *)ctx) == 0);
}
static void c_buffer_free(void) {
    cases += 3;
    strongroom_buffer_free(NULL);
    strongroom_buffer_free(freed_buf);                     /* double free */
    strongroom_buffer_free((strongroom_buffer *)ctx);      /* wrong kind: ignored */
    CHECK(strongroom_buffer_len((const strongroom_buffer *)ctx) == 0);
    size_t n;
    CHECK(strongroom_keyring_key_count(k, &n) == R(OK)); /* still fine */
    (void)n;
}
static void c_context_new(void) { CASE(strongroom_context_new(NULL), R(NULL_POINTER)); }
static void c_context_add(void) {
    strongroom_context *c = NULL;
    OK(strongroom_context_new(&c));
    CASE(strongroom_context_add(NULL, S("a"), S("b")), R(NULL_POINTER));
    CASE(strongroom_context_add(c, NULL, 1, S("b")), R(NULL_POINTER));
    CASE(strongroom_context_add(c, S("a"), NULL, 1), R(NULL_POINTER));
    CASE(strongroom_context_add(c, &one, BIG, S("b")), R(INVALID_LENGTH));
    CASE(strongroom_context_add(c, S("a"), &one, BIG), R(INVALID_LENGTH));
    CASE(strongroom_context_add(c, NULL, 0, S("b")), R(INVALID_ARGUMENT)); /* empty key */
    CASE(strongroom_context_add(c, S("a"), NULL, 0), R(OK));               /* empty value */
    CASE(strongroom_context_add(c, S("a"), S("b")), R(INVALID_ARGUMENT));  /* duplicate */
    CASE(strongroom_context_add(c, S("\xff"), S("b")), R(INVALID_UTF8));
    CASE(strongroom_context_add(freed_ctx, S("a"), S("b")), R(INVALID_HANDLE));
    CASE(strongroom_context_add((strongroom_context *)rec, S("a"), S("b")), R(INVALID_HANDLE));
    strongroom_context_free(c);
}
static void c_context_from_arrays(void) {
    const uint8_t *keys[1] = {(const uint8_t *)"k"};
    const uint8_t *vals[1] = {(const uint8_t *)"v"};
    size_t kl[1] = {1}, vl[1] = {1};
    CASE(strongroom_context_from_arrays(keys, kl, vals, vl, 1, NULL), R(NULL_POINTER));
    CASE(strongroom_context_from_arrays(NULL, kl, vals, vl, 1, &out_ctx), R(NULL_POINTER));
    CASE(strongroom_context_from_arrays(keys, NULL, vals, vl, 1, &out_ctx), R(NULL_POINTER));
    CASE(strongroom_context_from_arrays(keys, kl, NULL, vl, 1, &out_ctx), R(NULL_POINTER));
    CASE(strongroom_context_from_arrays(keys, kl, vals, NULL, 1, &out_ctx), R(NULL_POINTER));
    CASE(strongroom_context_from_arrays(NULL, NULL, NULL, NULL, 0, &out_ctx), R(OK));
    strongroom_context_free(out_ctx);
    CASE(strongroom_context_from_arrays(keys, kl, vals, vl, BIG, &out_ctx), R(INVALID_ARGUMENT));
    size_t big[1] = {BIG};
    CASE(strongroom_context_from_arrays(keys, big, vals, vl, 1, &out_ctx), R(INVALID_LENGTH));
    const uint8_t *nulls[1] = {NULL};
    CASE(strongroom_context_from_arrays(nulls, kl, vals, vl, 1, &out_ctx), R(NULL_POINTER));
}
static void c_context_free(void) {
    cases += 3;
    strongroom_context_free(NULL);
    strongroom_context_free(freed_ctx);
    strongroom_context_free((strongroom_context *)rec); /* wrong kind: ignored */
    CHECK(strongroom_buffer_len(rec) > 0);
}
static void c_keyring_new(void) { CASE(strongroom_keyring_new(NULL), R(NULL_POINTER)); }
static void c_keyring_open_key_file(void) {
    CASE(strongroom_keyring_open_key_file(KPATH, KFILE, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_open_key_file(NULL, 5, KFILE, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_open_key_file(KPATH, NULL, 5, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_open_key_file(NULL, 0, KFILE, &out_k), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_open_key_file((const uint8_t *)keyring_path, BIG, KFILE, &out_k), R(INVALID_LENGTH));
    CASE(strongroom_keyring_open_key_file(S("/nonexistent/k.srk"), KFILE, &out_k), R(NOT_FOUND));
    CASE(strongroom_keyring_open_key_file(KPATH, S("/nonexistent/root.key"), &out_k), R(IO));
}
static void c_keyring_create_key_file(void) {
    CASE(strongroom_keyring_create_key_file(KPATH, KFILE, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_create_key_file(NULL, 5, KFILE, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_create_key_file(KPATH, NULL, 5, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_create_key_file(KPATH, KFILE, &out_k), R(ALREADY_EXISTS));
}
static void c_keyring_open_passphrase(void) {
    CASE(strongroom_keyring_open_passphrase(KPATH, S("pw"), NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_open_passphrase(NULL, 5, S("pw"), &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_open_passphrase(KPATH, NULL, 5, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_open_passphrase(KPATH, &one, BIG, &out_k), R(INVALID_LENGTH));
    /* The file is sealed with a key file: the wrong kind of root. */
    CASE(strongroom_keyring_open_passphrase(KPATH, S("pw"), &out_k), R(INVALID_ARGUMENT));
}
static void c_keyring_create_passphrase(void) {
    CASE(strongroom_keyring_create_passphrase(KPATH, S("pw"), NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_create_passphrase(NULL, 5, S("pw"), &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_create_passphrase(KPATH, NULL, 5, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_create_passphrase(KPATH, NULL, 0, &out_k), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_create_passphrase(KPATH, S("pw"), &out_k), R(ALREADY_EXISTS));
}
static void c_keyring_reload(void) {
    CASE(strongroom_keyring_reload(NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_reload(freed_k), R(INVALID_HANDLE));
    CASE(strongroom_keyring_reload(WRONG_K), R(INVALID_HANDLE));
    CASE(strongroom_keyring_reload(k), R(OK));
}
static void c_keyring_reload_if_changed(void) {
    bool changed = true;
    CASE(strongroom_keyring_reload_if_changed(k, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_reload_if_changed(NULL, &changed), R(NULL_POINTER));
    CASE(strongroom_keyring_reload_if_changed(freed_k, &changed), R(INVALID_HANDLE));
    CASE(strongroom_keyring_reload_if_changed(WRONG_K, &changed), R(INVALID_HANDLE));
    CASE(strongroom_keyring_reload_if_changed(k, &changed), R(OK));
    cases++;
    CHECK(!changed); /* nothing wrote the file since it was loaded */
}
static void c_keyring_set_auto_reload(void) {
    CASE(strongroom_keyring_set_auto_reload(NULL, 10), R(NULL_POINTER));
    CASE(strongroom_keyring_set_auto_reload(freed_k, 10), R(INVALID_HANDLE));
    CASE(strongroom_keyring_set_auto_reload(WRONG_K, 10), R(INVALID_HANDLE));
    CASE(strongroom_keyring_set_auto_reload(k, UINT64_MAX), R(OK));
    CASE(strongroom_keyring_set_auto_reload(k, 0), R(OK));
}
static void c_keyring_staleness_ms(void) {
    uint64_t ms = UINT64_MAX;
    strongroom_keyring *mem = NULL;
    OK(strongroom_keyring_new(&mem));
    CASE(strongroom_keyring_staleness_ms(k, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_staleness_ms(NULL, &ms), R(NULL_POINTER));
    CASE(strongroom_keyring_staleness_ms(freed_k, &ms), R(INVALID_HANDLE));
    CASE(strongroom_keyring_staleness_ms(WRONG_K, &ms), R(INVALID_HANDLE));
    CASE(strongroom_keyring_staleness_ms(mem, &ms), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_staleness_ms(k, &ms), R(OK));
    cases++;
    CHECK(ms < 3600 * 1000);
    strongroom_keyring_free(mem);
}
static void c_keyring_free(void) {
    cases += 3;
    strongroom_keyring_free(NULL);
    strongroom_keyring_free(freed_k);
    strongroom_keyring_free((strongroom_keyring *)ctx); /* wrong kind: ignored */
    strongroom_context *c = NULL;
    CHECK(strongroom_context_new(&c) == R(OK));
    strongroom_context_free(c);
}

/* The (keyring, name, name_len) prefix shared by many functions. */
#define NAMED_CASES(fn, ...)                                                    \
    do {                                                                        \
        CASE(fn(NULL, NAME, __VA_ARGS__), R(NULL_POINTER));                     \
        CASE(fn(freed_k, NAME, __VA_ARGS__), R(INVALID_HANDLE));                \
        CASE(fn(WRONG_K, NAME, __VA_ARGS__), R(INVALID_HANDLE));                \
        CASE(fn(k, NULL, 3, __VA_ARGS__), R(NULL_POINTER));                     \
        CASE(fn(k, &one, BIG, __VA_ARGS__), R(INVALID_LENGTH));                 \
        CASE(fn(k, S("\xc3\x28"), __VA_ARGS__), R(INVALID_UTF8));                \
        CASE(fn(k, S("no-such-key"), __VA_ARGS__), R(UNKNOWN_KEY_NAME));        \
    } while (0)

static void c_key_create(void) {
    CASE(strongroom_keyring_key_create(NULL, NAME, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_key_create(freed_k, NAME, NULL), R(INVALID_HANDLE));
    CASE(strongroom_keyring_key_create(k, NULL, 3, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_key_create(k, NULL, 0, NULL), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_key_create(k, &one, BIG, NULL), R(INVALID_LENGTH));
    CASE(strongroom_keyring_key_create(k, NAME, NULL), R(KEY_EXISTS));
}
static void c_key_rotate(void) { NAMED_CASES(strongroom_keyring_key_rotate, NULL); }
static void c_key_disable(void) {
    NAMED_CASES(strongroom_keyring_key_disable, 1);
    CASE(strongroom_keyring_key_disable(k, NAME, 0), R(UNKNOWN_KEY_VERSION));
    CASE(strongroom_keyring_key_disable(k, NAME, UINT32_MAX), R(UNKNOWN_KEY_VERSION));
}
static void c_key_enable(void) {
    NAMED_CASES(strongroom_keyring_key_enable, 1);
    CASE(strongroom_keyring_key_enable(k, NAME, UINT32_MAX), R(UNKNOWN_KEY_VERSION));
}
static void c_key_destroy(void) {
    NAMED_CASES(strongroom_keyring_key_destroy, 1);
    CASE(strongroom_keyring_key_destroy(k, NAME, UINT32_MAX), R(UNKNOWN_KEY_VERSION));
}
static void c_key_set_min_version(void) {
    NAMED_CASES(strongroom_keyring_key_set_min_version, 1);
    CASE(strongroom_keyring_key_set_min_version(k, NAME, 0), R(INVALID_ARGUMENT));
}
static void c_key_set_rotation(void) { NAMED_CASES(strongroom_keyring_key_set_rotation, 0); }
static void c_key_is_due(void) {
    bool due;
    NAMED_CASES(strongroom_keyring_key_is_due, 0, &due);
    CASE(strongroom_keyring_key_is_due(k, NAME, 0, NULL), R(NULL_POINTER));
}
static void c_key_count(void) {
    size_t n;
    CASE(strongroom_keyring_key_count(NULL, &n), R(NULL_POINTER));
    CASE(strongroom_keyring_key_count(k, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_key_count(freed_k, &n), R(INVALID_HANDLE));
}
static void c_key_info(void) {
    strongroom_key_info info;
    CASE(strongroom_keyring_key_info(NULL, 0, &info), R(NULL_POINTER));
    CASE(strongroom_keyring_key_info(k, 0, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_key_info(k, BIG, &info), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_key_info(freed_k, 0, &info), R(INVALID_HANDLE));
}
static void c_version_info(void) {
    strongroom_version_info info;
    NAMED_CASES(strongroom_keyring_version_info, 1, &info);
    CASE(strongroom_keyring_version_info(k, NAME, 1, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_version_info(k, NAME, 0, &info), R(UNKNOWN_KEY_VERSION));
}
static void c_key_import(void) {
    uint8_t m[32] = {0};
    strongroom_version_import v[1] = {{1, 0, m}};
    CASE(strongroom_keyring_key_import(NULL, S("i"), 7, 0, 1, 1, v, 1), R(NULL_POINTER));
    CASE(strongroom_keyring_key_import(k, NULL, 1, 7, 0, 1, 1, v, 1), R(NULL_POINTER));
    CASE(strongroom_keyring_key_import(k, S("i"), 7, 0, 1, 1, NULL, 1), R(NULL_POINTER));
    CASE(strongroom_keyring_key_import(k, S("i"), 7, 0, 1, 1, v, 0), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_key_import(k, S("i"), 7, 0, 1, 1, v, BIG), R(TOO_LARGE));
    CASE(strongroom_keyring_key_import(k, S("i"), 0, 0, 1, 1, v, 1), R(INVALID_ARGUMENT)); /* id 0 */
    v[0].state = 9;
    CASE(strongroom_keyring_key_import(k, S("i"), 7, 0, 1, 1, v, 1), R(INVALID_ARGUMENT));
    v[0].state = 1;
    v[0].material = NULL;
    CASE(strongroom_keyring_key_import(k, S("i"), 7, 0, 1, 1, v, 1), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_key_import(freed_k, S("i"), 7, 0, 1, 1, v, 1), R(INVALID_HANDLE));
}

static void c_record_len(void) {
    cases += 3;
    CHECK(strongroom_record_len(0) == 49);
    CHECK(strongroom_record_len(BIG) == 0);
    CHECK(strongroom_record_len((size_t)1 << 20) == ((size_t)1 << 20) + 49);
}
static void c_record_plaintext_len(void) {
    cases += 2;
    CHECK(strongroom_record_plaintext_len(0) == 0);
    CHECK(strongroom_record_plaintext_len(BIG) == BIG - 49);
}
static void c_record_encrypt(void) {
    NAMED_CASES(strongroom_record_encrypt, S("x"), ctx, &out_buf);
    CASE(strongroom_record_encrypt(k, NAME, NULL, 1, ctx, &out_buf), R(NULL_POINTER));
    CASE(strongroom_record_encrypt(k, NAME, &one, BIG, ctx, &out_buf), R(INVALID_LENGTH));
    CASE(strongroom_record_encrypt(k, NAME, S("x"), ctx, NULL), R(NULL_POINTER));
    CASE(strongroom_record_encrypt(k, NAME, S("x"), freed_ctx, &out_buf), R(INVALID_HANDLE));
    CASE(strongroom_record_encrypt(k, NAME, S("x"), WRONG_CTX, &out_buf), R(INVALID_HANDLE));
    CASE(strongroom_record_encrypt(k, NAME, NULL, 0, NULL, &out_buf), R(OK)); /* empty, no context */
    strongroom_buffer_free(out_buf);
    uint8_t *big = (uint8_t *)calloc(((size_t)1 << 20) + 1, 1);
    CASE(strongroom_record_encrypt(k, NAME, big, ((size_t)1 << 20) + 1, ctx, &out_buf), R(TOO_LARGE));
    free(big);
}
static void c_record_encrypt_into(void) {
    NAMED_CASES(strongroom_record_encrypt_into, S("x"), ctx, out_bytes, sizeof out_bytes, &out_len);
    CASE(strongroom_record_encrypt_into(k, NAME, S("x"), ctx, NULL, 50, &out_len), R(NULL_POINTER));
    CASE(strongroom_record_encrypt_into(k, NAME, S("x"), ctx, out_bytes, BIG, &out_len), R(INVALID_LENGTH));
    CASE(strongroom_record_encrypt_into(k, NAME, S("x"), ctx, out_bytes, sizeof out_bytes, NULL), R(NULL_POINTER));
    CASE(strongroom_record_encrypt_into(k, NAME, S("x"), ctx, out_bytes, 49, &out_len), R(BUFFER_TOO_SMALL));
    CASE(strongroom_record_encrypt_into(k, NAME, S("x"), ctx, NULL, 0, &out_len), R(BUFFER_TOO_SMALL));
    CASE(strongroom_record_encrypt_into(k, NAME, out_bytes, 10, ctx, out_bytes + 5, 100, &out_len),
         R(BUFFER_OVERLAP));
}

/* The (keyring, input, input_len, ctx) functions that decrypt. */
#define INPUT_CASES(fn, input, ...)                                             \
    do {                                                                        \
        CASE(fn(NULL, input, ctx, __VA_ARGS__), R(NULL_POINTER));               \
        CASE(fn(freed_k, input, ctx, __VA_ARGS__), R(INVALID_HANDLE));          \
        CASE(fn(WRONG_K, input, ctx, __VA_ARGS__), R(INVALID_HANDLE));          \
        CASE(fn(k, NULL, 5, ctx, __VA_ARGS__), R(NULL_POINTER));                \
        CASE(fn(k, &one, BIG, ctx, __VA_ARGS__), R(INVALID_LENGTH));            \
        CASE(fn(k, NULL, 0, ctx, __VA_ARGS__), R(MALFORMED));                   \
        CASE(fn(k, input, freed_ctx, __VA_ARGS__), R(INVALID_HANDLE));          \
        CASE(fn(k, input, WRONG_CTX, __VA_ARGS__), R(INVALID_HANDLE));          \
    } while (0)

static void c_record_decrypt(void) {
    INPUT_CASES(strongroom_record_decrypt, RECP, &out_buf);
    CASE(strongroom_record_decrypt(k, RECP, ctx, NULL), R(NULL_POINTER));
    CASE(strongroom_record_decrypt(k, RECP, NULL, &out_buf), R(AUTHENTICATION_FAILED));
}
static void c_record_decrypt_into(void) {
    INPUT_CASES(strongroom_record_decrypt_into, RECP, out_bytes, sizeof out_bytes, &out_len);
    CASE(strongroom_record_decrypt_into(k, RECP, ctx, NULL, 10, &out_len), R(NULL_POINTER));
    CASE(strongroom_record_decrypt_into(k, RECP, ctx, out_bytes, BIG, &out_len), R(INVALID_LENGTH));
    CASE(strongroom_record_decrypt_into(k, RECP, ctx, out_bytes, sizeof out_bytes, NULL), R(NULL_POINTER));
    CASE(strongroom_record_decrypt_into(k, RECP, ctx, out_bytes, 0, &out_len), R(BUFFER_TOO_SMALL));
}
static void c_record_rewrap(void) {
    bool changed;
    INPUT_CASES(strongroom_record_rewrap, RECP, &out_buf, &changed);
    CASE(strongroom_record_rewrap(k, RECP, ctx, NULL, &changed), R(NULL_POINTER));
    CASE(strongroom_record_rewrap(k, RECP, ctx, &out_buf, NULL), R(NULL_POINTER));
}
static void c_record_to_text(void) {
    CASE(strongroom_record_to_text(RECP, NULL), R(NULL_POINTER));
    CASE(strongroom_record_to_text(NULL, 5, &out_buf), R(NULL_POINTER));
    CASE(strongroom_record_to_text(&one, BIG, &out_buf), R(INVALID_LENGTH));
    CASE(strongroom_record_to_text(NULL, 0, &out_buf), R(MALFORMED));
}
static void c_record_from_text(void) {
    CASE(strongroom_record_from_text(strongroom_buffer_data(text), strongroom_buffer_len(text), NULL),
         R(NULL_POINTER));
    CASE(strongroom_record_from_text(NULL, 5, &out_buf), R(NULL_POINTER));
    CASE(strongroom_record_from_text(&one, BIG, &out_buf), R(INVALID_LENGTH));
    CASE(strongroom_record_from_text(NULL, 0, &out_buf), R(MALFORMED));
    CASE(strongroom_record_from_text(S("sr1:\xff"), &out_buf), R(INVALID_UTF8));
}
static void c_record_encrypt_with_key(void) {
    CASE(strongroom_record_encrypt_with_key(DKP, S("x"), ctx, NULL), R(NULL_POINTER));
    CASE(strongroom_record_encrypt_with_key(NULL, 32, S("x"), ctx, &out_buf), R(NULL_POINTER));
    CASE(strongroom_record_encrypt_with_key(NULL, 0, S("x"), ctx, &out_buf), R(INVALID_ARGUMENT));
    CASE(strongroom_record_encrypt_with_key(strongroom_buffer_data(dk), 31, S("x"), ctx, &out_buf),
         R(INVALID_ARGUMENT));
    CASE(strongroom_record_encrypt_with_key(DKP, NULL, 1, ctx, &out_buf), R(NULL_POINTER));
    CASE(strongroom_record_encrypt_with_key(DKP, &one, BIG, ctx, &out_buf), R(INVALID_LENGTH));
    CASE(strongroom_record_encrypt_with_key(DKP, S("x"), freed_ctx, &out_buf), R(INVALID_HANDLE));
}
static void c_record_decrypt_with_key(void) {
    CASE(strongroom_record_decrypt_with_key(DKP, RECP, ctx, NULL), R(NULL_POINTER));
    CASE(strongroom_record_decrypt_with_key(NULL, 32, RECP, ctx, &out_buf), R(NULL_POINTER));
    CASE(strongroom_record_decrypt_with_key(DKP, NULL, 5, ctx, &out_buf), R(NULL_POINTER));
    CASE(strongroom_record_decrypt_with_key(DKP, &one, BIG, ctx, &out_buf), R(INVALID_LENGTH));
    CASE(strongroom_record_decrypt_with_key(DKP, RECP, ctx, &out_buf), R(MALFORMED)); /* keyring record */
    CASE(strongroom_record_decrypt_with_key(DKP, RECP, freed_ctx, &out_buf), R(INVALID_HANDLE));
}

static void c_envelope_encrypted_len(void) {
    uint64_t n;
    CASE(strongroom_envelope_encrypted_len(10, 0, 1, ctx, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypted_len(10, 0, 0, ctx, &n), R(INVALID_ARGUMENT));
    CASE(strongroom_envelope_encrypted_len(10, 1, 1, ctx, &n), R(INVALID_ARGUMENT));
    CASE(strongroom_envelope_encrypted_len(UINT64_MAX, 64, 1, ctx, &n), R(TOO_LARGE));
    CASE(strongroom_envelope_encrypted_len(10, 0, 1, freed_ctx, &n), R(INVALID_HANDLE));
}
static void c_envelope_encrypt(void) {
    NAMED_CASES(strongroom_envelope_encrypt, S("x"), ctx, 0, &out_buf);
    CASE(strongroom_envelope_encrypt(k, NAME, NULL, 1, ctx, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypt(k, NAME, &one, BIG, ctx, 0, &out_buf), R(INVALID_LENGTH));
    CASE(strongroom_envelope_encrypt(k, NAME, S("x"), ctx, 0, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypt(k, NAME, S("x"), ctx, UINT32_MAX, &out_buf), R(INVALID_ARGUMENT));
    CASE(strongroom_envelope_encrypt(k, NAME, S("x"), freed_ctx, 0, &out_buf), R(INVALID_HANDLE));
}
static void c_envelope_encrypt_to(void) {
    const uint8_t *names[2] = {(const uint8_t *)"pii", (const uint8_t *)"pii"};
    size_t lens[2] = {3, 3};
    CASE(strongroom_envelope_encrypt_to(k, names, lens, 1, S("x"), ctx, 0, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypt_to(NULL, names, lens, 1, S("x"), ctx, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypt_to(freed_k, names, lens, 1, S("x"), ctx, 0, &out_buf), R(INVALID_HANDLE));
    CASE(strongroom_envelope_encrypt_to(k, NULL, lens, 1, S("x"), ctx, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypt_to(k, names, NULL, 1, S("x"), ctx, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypt_to(k, names, lens, 0, S("x"), ctx, 0, &out_buf), R(INVALID_ARGUMENT));
    CASE(strongroom_envelope_encrypt_to(k, names, lens, BIG, S("x"), ctx, 0, &out_buf), R(INVALID_ARGUMENT));
    CASE(strongroom_envelope_encrypt_to(k, names, lens, 2, S("x"), ctx, 0, &out_buf), R(INVALID_ARGUMENT));
    CASE(strongroom_envelope_encrypt_to(k, names, lens, 1, NULL, 1, ctx, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypt_to(k, names, lens, 1, &one, BIG, ctx, 0, &out_buf), R(INVALID_LENGTH));
    size_t big[1] = {BIG};
    CASE(strongroom_envelope_encrypt_to(k, names, big, 1, S("x"), ctx, 0, &out_buf), R(INVALID_LENGTH));
    const uint8_t *nulls[1] = {NULL};
    CASE(strongroom_envelope_encrypt_to(k, nulls, lens, 1, S("x"), ctx, 0, &out_buf), R(NULL_POINTER));
}
static void c_envelope_encrypt_with_key(void) {
    CASE(strongroom_envelope_encrypt_with_key(DKP, S("x"), ctx, 0, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypt_with_key(NULL, 32, S("x"), ctx, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypt_with_key(strongroom_buffer_data(dk), 33, S("x"), ctx, 0, &out_buf),
         R(INVALID_ARGUMENT));
    CASE(strongroom_envelope_encrypt_with_key(DKP, NULL, 1, ctx, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_envelope_encrypt_with_key(DKP, &one, BIG, ctx, 0, &out_buf), R(INVALID_LENGTH));
    CASE(strongroom_envelope_encrypt_with_key(DKP, S("x"), freed_ctx, 0, &out_buf), R(INVALID_HANDLE));
    CASE(strongroom_envelope_encrypt_with_key(DKP, S("x"), ctx, 7, &out_buf), R(INVALID_ARGUMENT));
}
static void c_envelope_decrypt_with_key(void) {
    CASE(strongroom_envelope_decrypt_with_key(DKP, ENVP, ctx, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_decrypt_with_key(NULL, 32, ENVP, ctx, &out_buf), R(NULL_POINTER));
    CASE(strongroom_envelope_decrypt_with_key(DKP, NULL, 5, ctx, &out_buf), R(NULL_POINTER));
    CASE(strongroom_envelope_decrypt_with_key(DKP, &one, BIG, ctx, &out_buf), R(INVALID_LENGTH));
    CASE(strongroom_envelope_decrypt_with_key(DKP, NULL, 0, ctx, &out_buf), R(MALFORMED));
    /* The envelope's only recipient is a keyring key. */
    CASE(strongroom_envelope_decrypt_with_key(DKP, ENVP, ctx, &out_buf), R(UNKNOWN_KEY_ID));
    CASE(strongroom_envelope_decrypt_with_key(DKP, ENVP, freed_ctx, &out_buf), R(INVALID_HANDLE));
}
static void c_envelope_decrypt(void) {
    INPUT_CASES(strongroom_envelope_decrypt, ENVP, &out_buf);
    CASE(strongroom_envelope_decrypt(k, ENVP, ctx, NULL), R(NULL_POINTER));
}
static void c_envelope_rewrap(void) {
    INPUT_CASES(strongroom_envelope_rewrap, ENVP, &out_buf);
    CASE(strongroom_envelope_rewrap(k, ENVP, ctx, NULL), R(NULL_POINTER));
}
static void c_envelope_inspect(void) {
    strongroom_envelope_info info;
    CASE(strongroom_envelope_inspect(ENVP, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_inspect(NULL, 5, &info), R(NULL_POINTER));
    CASE(strongroom_envelope_inspect(&one, BIG, &info), R(INVALID_LENGTH));
    CASE(strongroom_envelope_inspect(NULL, 0, &info), R(MALFORMED));
}
static void c_datakey_generate(void) {
    strongroom_buffer *w;
    NAMED_CASES(strongroom_datakey_generate, ctx, &out_buf, &w);
    CASE(strongroom_datakey_generate(k, NAME, ctx, NULL, &w), R(NULL_POINTER));
    CASE(strongroom_datakey_generate(k, NAME, ctx, &out_buf, NULL), R(NULL_POINTER));
    CASE(strongroom_datakey_generate(k, NAME, freed_ctx, &out_buf, &w), R(INVALID_HANDLE));
}
static void c_datakey_unwrap(void) {
    INPUT_CASES(strongroom_datakey_unwrap, WRAPP, &out_buf);
    CASE(strongroom_datakey_unwrap(k, WRAPP, ctx, NULL), R(NULL_POINTER));
}
static void c_derive_key(void) {
    uint32_t v;
    NAMED_CASES(strongroom_keyring_derive_key, ctx, &out_buf, &v);
    CASE(strongroom_keyring_derive_key(k, NAME, ctx, NULL, &v), R(NULL_POINTER));
    CASE(strongroom_keyring_derive_key(k, NAME, ctx, &out_buf, NULL), R(NULL_POINTER));
}
static void c_derive_key_version(void) {
    NAMED_CASES(strongroom_keyring_derive_key_version, 1, ctx, &out_buf);
    CASE(strongroom_keyring_derive_key_version(k, NAME, 1, ctx, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_derive_key_version(k, NAME, 0, ctx, &out_buf), R(UNKNOWN_KEY_VERSION));
}

static strongroom_envelope_encryptor *live_enc;
static strongroom_envelope_decryptor *live_dec;

static void c_encryptor_new(void) {
    const uint8_t *names[1] = {(const uint8_t *)"pii"};
    size_t lens[1] = {3};
    strongroom_envelope_encryptor *e = NULL;
    strongroom_buffer *h = NULL;
    CASE(strongroom_envelope_encryptor_new(k, names, lens, 1, ctx, 0, NULL, &h), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_new(k, names, lens, 1, ctx, 0, &e, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_new(NULL, names, lens, 1, ctx, 0, &e, &h), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_new(freed_k, names, lens, 1, ctx, 0, &e, &h), R(INVALID_HANDLE));
    CASE(strongroom_envelope_encryptor_new(k, NULL, lens, 1, ctx, 0, &e, &h), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_new(k, names, NULL, 1, ctx, 0, &e, &h), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_new(k, names, lens, 0, ctx, 0, &e, &h), R(INVALID_ARGUMENT));
    CASE(strongroom_envelope_encryptor_new(k, names, lens, BIG, ctx, 0, &e, &h), R(INVALID_ARGUMENT));
    CASE(strongroom_envelope_encryptor_new(k, names, lens, 1, ctx, 5, &e, &h), R(INVALID_ARGUMENT));
    CASE(strongroom_envelope_encryptor_new(k, names, lens, 1, freed_ctx, 0, &e, &h), R(INVALID_HANDLE));
    size_t big[1] = {BIG};
    CASE(strongroom_envelope_encryptor_new(k, names, big, 1, ctx, 0, &e, &h), R(INVALID_LENGTH));
}
static void c_encryptor_update_bound(void) {
    cases += 3;
    CHECK(strongroom_envelope_encryptor_update_bound(NULL, 10) == 0);
    CHECK(strongroom_envelope_encryptor_update_bound((const strongroom_envelope_encryptor *)k, 10) == 0);
    CHECK(strongroom_envelope_encryptor_update_bound(live_enc, BIG) > 0);
}
static void c_encryptor_update(void) {
    CASE(strongroom_envelope_encryptor_update(NULL, S("x"), out_bytes, 10, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_update((strongroom_envelope_encryptor *)k, S("x"), out_bytes, 10, &out_len),
         R(INVALID_HANDLE));
    CASE(strongroom_envelope_encryptor_update(live_enc, NULL, 1, out_bytes, 10, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_update(live_enc, &one, BIG, out_bytes, 10, &out_len), R(INVALID_LENGTH));
    CASE(strongroom_envelope_encryptor_update(live_enc, S("x"), NULL, 10, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_update(live_enc, S("x"), out_bytes, BIG, &out_len), R(INVALID_LENGTH));
    CASE(strongroom_envelope_encryptor_update(live_enc, S("x"), out_bytes, 10, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_update(live_enc, out_bytes, 200, out_bytes + 10, 300, &out_len),
         R(BUFFER_OVERLAP));
    CASE(strongroom_envelope_encryptor_update(live_enc, out_bytes, 200, NULL, 0, &out_len), R(BUFFER_TOO_SMALL));
    CASE(strongroom_envelope_encryptor_update(live_enc, NULL, 0, NULL, 0, &out_len), R(OK));
}
static void c_encryptor_finish_bound(void) {
    cases += 2;
    CHECK(strongroom_envelope_encryptor_finish_bound(NULL) == 0);
    CHECK(strongroom_envelope_encryptor_finish_bound(live_enc) >= 16);
}
static void c_encryptor_finish(void) {
    CASE(strongroom_envelope_encryptor_finish(NULL, out_bytes, 100, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_finish(live_enc, NULL, 100, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_finish(live_enc, out_bytes, BIG, &out_len), R(INVALID_LENGTH));
    CASE(strongroom_envelope_encryptor_finish(live_enc, out_bytes, 100, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_encryptor_finish(live_enc, out_bytes, 1, &out_len), R(BUFFER_TOO_SMALL));
    CASE(strongroom_envelope_encryptor_finish(live_enc, out_bytes, sizeof out_bytes, &out_len), R(OK));
    CASE(strongroom_envelope_encryptor_finish(live_enc, out_bytes, sizeof out_bytes, &out_len), R(INVALID_ARGUMENT));
}
static void c_encryptor_free(void) {
    cases += 3;
    strongroom_envelope_encryptor_free(NULL);
    strongroom_envelope_encryptor_free((strongroom_envelope_encryptor *)ctx); /* wrong kind: ignored */
    strongroom_envelope_encryptor *e = NULL;
    strongroom_buffer *h = NULL;
    const uint8_t *names[1] = {(const uint8_t *)"pii"};
    size_t lens[1] = {3};
    CHECK(strongroom_envelope_encryptor_new(k, names, lens, 1, ctx, 0, &e, &h) == R(OK));
    strongroom_envelope_encryptor_free(e);
    strongroom_envelope_encryptor_free(e); /* double free */
    strongroom_buffer_free(h);
    CHECK(strongroom_envelope_encryptor_update_bound(e, 1) == 0);
}
static void c_decryptor_new(void) {
    strongroom_envelope_decryptor *d = NULL;
    CASE(strongroom_envelope_decryptor_new(k, ctx, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_decryptor_new(NULL, ctx, &d), R(NULL_POINTER));
    CASE(strongroom_envelope_decryptor_new(freed_k, ctx, &d), R(INVALID_HANDLE));
    CASE(strongroom_envelope_decryptor_new(k, freed_ctx, &d), R(INVALID_HANDLE));
    CASE(strongroom_envelope_decryptor_new(WRONG_K, ctx, &d), R(INVALID_HANDLE));
}
static void c_decryptor_update_bound(void) {
    cases += 2;
    CHECK(strongroom_envelope_decryptor_update_bound(NULL, 10) == 0);
    CHECK(strongroom_envelope_decryptor_update_bound(live_dec, 10) == 10);
}
static void c_decryptor_update(void) {
    CASE(strongroom_envelope_decryptor_update(NULL, ENVP, out_bytes, 100, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_decryptor_update((strongroom_envelope_decryptor *)k, ENVP, out_bytes, 100, &out_len),
         R(INVALID_HANDLE));
    CASE(strongroom_envelope_decryptor_update(live_dec, NULL, 1, out_bytes, 100, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_decryptor_update(live_dec, &one, BIG, out_bytes, 100, &out_len), R(INVALID_LENGTH));
    CASE(strongroom_envelope_decryptor_update(live_dec, ENVP, NULL, 100, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_decryptor_update(live_dec, ENVP, out_bytes, 100, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_decryptor_update(live_dec, ENVP, out_bytes, 0, &out_len), R(BUFFER_TOO_SMALL));
    CASE(strongroom_envelope_decryptor_update(live_dec, NULL, 0, NULL, 0, &out_len), R(OK));
    CASE(strongroom_envelope_decryptor_update(live_dec, ENVP, out_bytes, sizeof out_bytes, &out_len), R(OK));
}
static void c_decryptor_finish_bound(void) {
    cases += 2;
    CHECK(strongroom_envelope_decryptor_finish_bound(NULL) == 0);
    CHECK(strongroom_envelope_decryptor_finish_bound((const strongroom_envelope_decryptor *)rec) == 0);
}
static void c_decryptor_finish(void) {
    CASE(strongroom_envelope_decryptor_finish(NULL, out_bytes, 100, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_decryptor_finish(live_dec, NULL, 100, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_decryptor_finish(live_dec, out_bytes, BIG, &out_len), R(INVALID_LENGTH));
    CASE(strongroom_envelope_decryptor_finish(live_dec, out_bytes, 100, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_decryptor_finish(live_dec, out_bytes, sizeof out_bytes, &out_len), R(OK));
}
static void c_decryptor_free(void) {
    cases += 3;
    strongroom_envelope_decryptor_free(NULL);
    strongroom_envelope_decryptor_free((strongroom_envelope_decryptor *)k); /* wrong kind: ignored */
    strongroom_envelope_decryptor *d = NULL;
    CHECK(strongroom_envelope_decryptor_new(k, ctx, &d) == R(OK));
    strongroom_envelope_decryptor_free(d);
    strongroom_envelope_decryptor_free(d); /* double free */
    size_t n;
    CHECK(strongroom_keyring_key_count(k, &n) == R(OK));
}
static strongroom_result no_wrap(void *u, const uint8_t *p, size_t pl, const uint8_t *key, size_t kl, const uint8_t *a,
                                 size_t al, const uint8_t *n, uint8_t *o, size_t oc, size_t *ol) {
    (void)u, (void)p, (void)pl, (void)key, (void)kl, (void)a, (void)al, (void)n, (void)o, (void)oc, (void)ol;
    return R(IO);
}
static strongroom_result no_unwrap(void *u, const uint8_t *p, size_t pl, const uint8_t *w, size_t wl,
                                   const uint8_t *a, size_t al, uint8_t *o) {
    (void)u, (void)p, (void)pl, (void)w, (void)wl, (void)a, (void)al, (void)o;
    return R(IO);
}
static void c_open_provider(void) {
    strongroom_key_provider p = {NULL, NULL, 0, no_wrap, no_unwrap};
    CASE(strongroom_keyring_open_provider(KPATH, &p, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_open_provider(KPATH, NULL, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_open_provider(NULL, 5, &p, &out_k), R(NULL_POINTER));
    /* The file is sealed with a key file. */
    CASE(strongroom_keyring_open_provider(KPATH, &p, &out_k), R(INVALID_ARGUMENT));
    p.params = &one;
    p.params_len = BIG;
    CASE(strongroom_keyring_open_provider(KPATH, &p, &out_k), R(INVALID_LENGTH));
    p.params_len = 2000;
    uint8_t many[2000] = {0};
    p.params = many;
    CASE(strongroom_keyring_open_provider(KPATH, &p, &out_k), R(TOO_LARGE));
    p.params_len = 0;
    p.unwrap = NULL;
    CASE(strongroom_keyring_open_provider(KPATH, &p, &out_k), R(NULL_POINTER));
}
static void c_create_provider(void) {
    strongroom_key_provider p = {NULL, NULL, 0, no_wrap, no_unwrap};
    char fresh[600];
    snprintf(fresh, sizeof fresh, "%s/provider.srk", dir);
    CASE(strongroom_keyring_create_provider(KPATH, &p, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_create_provider(KPATH, NULL, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_create_provider(KPATH, &p, &out_k), R(ALREADY_EXISTS));
    /* A wrap callback that refuses: KEY_PROVIDER, and no file is left. */
    CASE(strongroom_keyring_create_provider((const uint8_t *)fresh, strlen(fresh), &p, &out_k), R(KEY_PROVIDER));
    cases++;
    CHECK(access(fresh, F_OK) != 0);
    p.wrap = NULL;
    CASE(strongroom_keyring_create_provider((const uint8_t *)fresh, strlen(fresh), &p, &out_k), R(NULL_POINTER));
}

static void noop_event(const strongroom_audit_event *e, void *u) {
    (void)e, (void)u;
}
static void c_set_audit(void) {
    CASE(strongroom_keyring_set_audit(NULL, noop_event, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_set_audit(k, NULL, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_set_audit(freed_k, noop_event, NULL), R(INVALID_HANDLE));
    CASE(strongroom_keyring_set_audit(WRONG_K, noop_event, NULL), R(INVALID_HANDLE));
    CASE(strongroom_keyring_set_audit(k, noop_event, NULL), R(OK));
}

static void c_file_encrypt(void) {
    NAMED_CASES(strongroom_file_encrypt, KPATH, S("/tmp/x"), ctx, 0, 1);
    CASE(strongroom_file_encrypt(k, NAME, NULL, 5, S("/tmp/x"), ctx, 0, 1), R(NULL_POINTER));
    CASE(strongroom_file_encrypt(k, NAME, KPATH, NULL, 5, ctx, 0, 1), R(NULL_POINTER));
    CASE(strongroom_file_encrypt(k, NAME, NULL, 0, S("/tmp/x"), ctx, 0, 1), R(INVALID_ARGUMENT));
    CASE(strongroom_file_encrypt(k, NAME, &one, BIG, S("/tmp/x"), ctx, 0, 1), R(INVALID_LENGTH));
    CASE(strongroom_file_encrypt(k, NAME, KPATH, S("/tmp/x"), freed_ctx, 0, 1), R(INVALID_HANDLE));
    CASE(strongroom_file_encrypt(k, NAME, S("/nonexistent/in"), S("/tmp/x"), ctx, 0, 1), R(IO));
}
static void c_file_decrypt(void) {
    CASE(strongroom_file_decrypt(NULL, KPATH, S("/tmp/x"), ctx, 1), R(NULL_POINTER));
    CASE(strongroom_file_decrypt(freed_k, KPATH, S("/tmp/x"), ctx, 1), R(INVALID_HANDLE));
    CASE(strongroom_file_decrypt(k, NULL, 5, S("/tmp/x"), ctx, 1), R(NULL_POINTER));
    CASE(strongroom_file_decrypt(k, KPATH, NULL, 5, ctx, 1), R(NULL_POINTER));
    CASE(strongroom_file_decrypt(k, &one, BIG, S("/tmp/x"), ctx, 1), R(INVALID_LENGTH));
    CASE(strongroom_file_decrypt(k, KPATH, S("/tmp/x"), freed_ctx, 1), R(INVALID_HANDLE));
    CASE(strongroom_file_decrypt(k, S("/nonexistent/in"), S("/tmp/x"), ctx, 1), R(IO));
    /* The keyring file is not an envelope. */
    char out[600];
    snprintf(out, sizeof out, "%s/never.out", dir);
    CASE(strongroom_file_decrypt(k, KPATH, (const uint8_t *)out, strlen(out), ctx, 1), R(MALFORMED));
    cases++;
    CHECK(access(out, F_OK) != 0);
}
static void c_file_rewrap(void) {
    size_t moved;
    CASE(strongroom_file_rewrap(NULL, KPATH, &moved), R(NULL_POINTER));
    CASE(strongroom_file_rewrap(freed_k, KPATH, &moved), R(INVALID_HANDLE));
    CASE(strongroom_file_rewrap(k, NULL, 5, &moved), R(NULL_POINTER));
    CASE(strongroom_file_rewrap(k, &one, BIG, &moved), R(INVALID_LENGTH));
    CASE(strongroom_file_rewrap(k, S("/nonexistent/f.sr"), &moved), R(IO));
    CASE(strongroom_file_rewrap(k, KPATH, NULL), R(MALFORMED));
}

static void c_reader_open(void) {
    strongroom_envelope_reader *r = NULL;
    CASE(strongroom_envelope_reader_open(k, KPATH, ctx, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_reader_open(NULL, KPATH, ctx, &r), R(NULL_POINTER));
    CASE(strongroom_envelope_reader_open(freed_k, KPATH, ctx, &r), R(INVALID_HANDLE));
    CASE(strongroom_envelope_reader_open(k, NULL, 5, ctx, &r), R(NULL_POINTER));
    CASE(strongroom_envelope_reader_open(k, &one, BIG, ctx, &r), R(INVALID_LENGTH));
    CASE(strongroom_envelope_reader_open(k, KPATH, freed_ctx, &r), R(INVALID_HANDLE));
    CASE(strongroom_envelope_reader_open(k, S("/nonexistent/e.sr"), ctx, &r), R(IO));
    CASE(strongroom_envelope_reader_open(k, KPATH, ctx, &r), R(MALFORMED)); /* not an envelope */
}
static void c_reader_len(void) {
    cases += 2;
    CHECK(strongroom_envelope_reader_len(NULL) == 0);
    CHECK(strongroom_envelope_reader_len((const strongroom_envelope_reader *)k) == 0);
}
static void c_reader_read_at(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/env.sr", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(strongroom_buffer_data(env), 1, strongroom_buffer_len(env), f) == strongroom_buffer_len(env));
    if (f) fclose(f);
    strongroom_envelope_reader *r = NULL;
    OK(strongroom_envelope_reader_open(k, (const uint8_t *)path, strlen(path), ctx, &r));
    CASE(strongroom_envelope_reader_read_at(NULL, 0, out_bytes, 10, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_reader_read_at((strongroom_envelope_reader *)k, 0, out_bytes, 10, &out_len),
         R(INVALID_HANDLE));
    CASE(strongroom_envelope_reader_read_at(r, 0, NULL, 10, &out_len), R(NULL_POINTER));
    CASE(strongroom_envelope_reader_read_at(r, 0, out_bytes, BIG, &out_len), R(INVALID_LENGTH));
    CASE(strongroom_envelope_reader_read_at(r, 0, out_bytes, 10, NULL), R(NULL_POINTER));
    CASE(strongroom_envelope_reader_read_at(r, UINT64_MAX, out_bytes, 10, &out_len), R(OK));
    CASE(strongroom_envelope_reader_read_at(r, 0, NULL, 0, &out_len), R(OK));
    CASE(strongroom_envelope_reader_read_at(r, 0, out_bytes, sizeof out_bytes, &out_len), R(OK));
    cases++;
    CHECK(out_len == 4 && memcmp(out_bytes, "blob", 4) == 0);
    strongroom_envelope_reader_free(r);
    strongroom_envelope_reader_free(r); /* double free */
}
static void c_reader_free(void) {
    cases += 2;
    strongroom_envelope_reader_free(NULL);
    strongroom_envelope_reader_free((strongroom_envelope_reader *)ctx); /* wrong kind: ignored */
    CHECK(strongroom_buffer_len(rec) > 0);
}

static void c_open_pkcs11(void) {
    strongroom_keyring *r = NULL;
    CASE(strongroom_keyring_open_pkcs11(KPATH, S("/no/m.so"), S("t"), S("1"), S("k"), NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_open_pkcs11(NULL, 5, S("/no/m.so"), S("t"), S("1"), S("k"), &r), R(NULL_POINTER));
    CASE(strongroom_keyring_open_pkcs11(KPATH, NULL, 5, S("t"), S("1"), S("k"), &r), R(NULL_POINTER));
    CASE(strongroom_keyring_open_pkcs11(KPATH, S("/no/m.so"), NULL, 1, S("1"), S("k"), &r), R(NULL_POINTER));
    CASE(strongroom_keyring_open_pkcs11(KPATH, S("/no/m.so"), S("t"), NULL, 1, S("k"), &r), R(NULL_POINTER));
    CASE(strongroom_keyring_open_pkcs11(KPATH, S("/no/m.so"), S("t"), S("1"), NULL, 1, &r), R(NULL_POINTER));
    CASE(strongroom_keyring_open_pkcs11(KPATH, S("/no/m.so"), S("t"), &one, BIG, S("k"), &r), R(INVALID_LENGTH));
    CASE(strongroom_keyring_open_pkcs11(KPATH, S("/no/m.so"), S("t"), S("\xff"), S("k"), &r), R(INVALID_UTF8));
    CASE(strongroom_keyring_open_pkcs11(KPATH, S("/no/m.so"), S("t"), S("1"), S("k"), &r), R(KEY_PROVIDER));
}
static void c_create_pkcs11(void) {
    strongroom_keyring *r = NULL;
    CASE(strongroom_keyring_create_pkcs11(KPATH, S("/no/m.so"), S("t"), S("1"), S("k"), false, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_create_pkcs11(NULL, 5, S("/no/m.so"), S("t"), S("1"), S("k"), false, &r), R(NULL_POINTER));
    CASE(strongroom_keyring_create_pkcs11(KPATH, NULL, 5, S("t"), S("1"), S("k"), false, &r), R(NULL_POINTER));
    CASE(strongroom_keyring_create_pkcs11(KPATH, S("/no/m.so"), S("t"), S("1"), S("k"), true, &r), R(KEY_PROVIDER));
}

static void c_open_sealed(void) {
    size_t len = 0;
    FILE *f = fopen(keyring_path, "rb");
    uint8_t sealed[8192];
    if (f) {
        len = fread(sealed, 1, sizeof sealed, f);
        fclose(f);
    }
    uint8_t key[32];
    memset(key, 0x42, sizeof key); /* TEST KEY: the fixture's key file */
    strongroom_keyring *r = NULL;
    CASE(strongroom_keyring_open_sealed(sealed, len, key, 32, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_open_sealed(NULL, 5, key, 32, &r), R(NULL_POINTER));
    CASE(strongroom_keyring_open_sealed(sealed, len, NULL, 32, &r), R(NULL_POINTER));
    CASE(strongroom_keyring_open_sealed(&one, BIG, key, 32, &r), R(INVALID_LENGTH));
    CASE(strongroom_keyring_open_sealed(sealed, len, key, 31, &r), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_open_sealed(NULL, 0, key, 32, &r), R(MALFORMED));
    CASE(strongroom_keyring_open_sealed(sealed, len - 1, key, 32, &r), R(AUTHENTICATION_FAILED));
    key[0] ^= 1;
    CASE(strongroom_keyring_open_sealed(sealed, len, key, 32, &r), R(AUTHENTICATION_FAILED));
    key[0] ^= 1;
    CASE(strongroom_keyring_open_sealed(sealed, len, key, 32, &r), R(OK));
    size_t n = 0;
    cases++;
    CHECK(strongroom_keyring_key_count(r, &n) == R(OK) && n == 1);
    strongroom_keyring_free(r);
}

/* Blind indexes: a live one-field definition, one with no field yet, a
 * freed one, and one value of the live definition. */
static strongroom_blind_index *bidx, *empty_idx, *freed_idx;
static strongroom_buffer *ival;
static const uint8_t *ivals[1] = {(const uint8_t *)"ada@example.com"};
static size_t ilens[1] = {15};
#define IVALP strongroom_buffer_data(ival), strongroom_buffer_len(ival)
#define WRONG_IDX ((const strongroom_blind_index *)rec)

static void c_blind_index_new(void) {
    strongroom_blind_index *b = NULL;
    CASE(strongroom_blind_index_new(S("i"), NAME, 32, NULL), R(NULL_POINTER));
    CASE(strongroom_blind_index_new(NULL, 1, NAME, 32, &b), R(NULL_POINTER));
    CASE(strongroom_blind_index_new(S("i"), NULL, 1, 32, &b), R(NULL_POINTER));
    CASE(strongroom_blind_index_new(&one, BIG, NAME, 32, &b), R(INVALID_LENGTH));
    CASE(strongroom_blind_index_new(S("i"), NAME, 0, &b), R(INVALID_ARGUMENT));
    CASE(strongroom_blind_index_new(S("i"), NAME, 257, &b), R(INVALID_ARGUMENT));
    CASE(strongroom_blind_index_new(NULL, 0, NAME, 32, &b), R(INVALID_ARGUMENT));
    CASE(strongroom_blind_index_new(S("\xff"), NAME, 32, &b), R(INVALID_UTF8));
    cases++;
    CHECK(b == NULL);
}
static void c_blind_index_add_field(void) {
    strongroom_blind_index *b = NULL;
    OK(strongroom_blind_index_new(S("i"), NAME, 32, &b));
    CASE(strongroom_blind_index_add_field(NULL, S("f"), S("trim")), R(NULL_POINTER));
    CASE(strongroom_blind_index_add_field(b, NULL, 1, S("trim")), R(NULL_POINTER));
    CASE(strongroom_blind_index_add_field(b, S("f"), NULL, 1), R(NULL_POINTER));
    CASE(strongroom_blind_index_add_field(b, &one, BIG, S("trim")), R(INVALID_LENGTH));
    CASE(strongroom_blind_index_add_field(b, S("f"), S("trim,,nfc")), R(INVALID_ARGUMENT));
    CASE(strongroom_blind_index_add_field(b, S("f"), S("last:0")), R(INVALID_ARGUMENT));
    CASE(strongroom_blind_index_add_field(b, S("f"), S("\xff")), R(INVALID_UTF8));
    CASE(strongroom_blind_index_add_field(b, S("f"), NULL, 0), R(OK));
    CASE(strongroom_blind_index_add_field(b, S("f"), NULL, 0), R(INVALID_ARGUMENT)); /* repeated */
    CASE(strongroom_blind_index_add_field((strongroom_blind_index *)freed_idx, S("g"), NULL, 0), R(INVALID_HANDLE));
    CASE(strongroom_blind_index_add_field((strongroom_blind_index *)rec, S("g"), NULL, 0), R(INVALID_HANDLE));
    strongroom_blind_index_free(b);
}
static void c_blind_index_set_slow(void) {
    strongroom_blind_index *b = NULL;
    OK(strongroom_blind_index_new(S("i"), NAME, 32, &b));
    CASE(strongroom_blind_index_set_slow(NULL, 64, 1, 1), R(NULL_POINTER));
    CASE(strongroom_blind_index_set_slow(b, 15, 1, 2), R(INVALID_ARGUMENT));
    CASE(strongroom_blind_index_set_slow(b, 64, 0, 1), R(INVALID_ARGUMENT));
    CASE(strongroom_blind_index_set_slow(b, 64, 1, 17), R(INVALID_ARGUMENT));
    CASE(strongroom_blind_index_set_slow(b, UINT32_MAX, 1, 1), R(INVALID_ARGUMENT));
    CASE(strongroom_blind_index_set_slow(b, 64, 1, 1), R(OK));
    CASE(strongroom_blind_index_set_slow(freed_idx, 64, 1, 1), R(INVALID_HANDLE));
    strongroom_blind_index_free(b);
}
static void c_blind_index_value_len(void) {
    cases += 4;
    CHECK(strongroom_blind_index_value_len(bidx) == 9);
    CHECK(strongroom_blind_index_value_len(NULL) == 0);
    CHECK(strongroom_blind_index_value_len(freed_idx) == 0);
    CHECK(strongroom_blind_index_value_len(WRONG_IDX) == 0);
}
static void c_blind_index_free(void) {
    cases += 3;
    strongroom_blind_index_free(NULL);
    strongroom_blind_index_free(freed_idx);                 /* double free */
    strongroom_blind_index_free((strongroom_blind_index *)ctx); /* wrong kind: ignored */
    CHECK(strongroom_context_add(ctx, S("still"), S("live")) == R(OK));
}
static void c_keyring_blind_index(void) {
    CASE(strongroom_keyring_blind_index(k, bidx, ivals, ilens, 1, 0, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_blind_index(NULL, bidx, ivals, ilens, 1, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_keyring_blind_index(k, NULL, ivals, ilens, 1, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_keyring_blind_index(k, bidx, NULL, ilens, 1, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_keyring_blind_index(k, bidx, ivals, NULL, 1, 0, &out_buf), R(NULL_POINTER));
    CASE(strongroom_keyring_blind_index(k, bidx, ivals, ilens, 0, 0, &out_buf), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_blind_index(k, bidx, ivals, ilens, BIG, 0, &out_buf), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_blind_index(k, empty_idx, ivals, ilens, 1, 0, &out_buf), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_blind_index(freed_k, bidx, ivals, ilens, 1, 0, &out_buf), R(INVALID_HANDLE));
    CASE(strongroom_keyring_blind_index(k, freed_idx, ivals, ilens, 1, 0, &out_buf), R(INVALID_HANDLE));
    CASE(strongroom_keyring_blind_index(k, WRONG_IDX, ivals, ilens, 1, 0, &out_buf), R(INVALID_HANDLE));
    CASE(strongroom_keyring_blind_index(k, bidx, ivals, ilens, 1, 9, &out_buf), R(UNKNOWN_KEY_VERSION));
    const uint8_t *bad[1] = {(const uint8_t *)"\xff"};
    size_t bad_len[1] = {1}, big_len[1] = {BIG};
    CASE(strongroom_keyring_blind_index(k, bidx, bad, bad_len, 1, 0, &out_buf), R(INVALID_UTF8));
    CASE(strongroom_keyring_blind_index(k, bidx, bad, big_len, 1, 0, &out_buf), R(INVALID_LENGTH));
}
static void c_keyring_blind_index_lookup(void) {
    size_t n = 0;
    CASE(strongroom_keyring_blind_index_lookup(k, bidx, ivals, ilens, 1, NULL, &n), R(NULL_POINTER));
    CASE(strongroom_keyring_blind_index_lookup(k, bidx, ivals, ilens, 1, &out_buf, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_blind_index_lookup(NULL, bidx, ivals, ilens, 1, &out_buf, &n), R(NULL_POINTER));
    CASE(strongroom_keyring_blind_index_lookup(k, empty_idx, ivals, ilens, 1, &out_buf, &n), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_blind_index_lookup(k, freed_idx, ivals, ilens, 1, &out_buf, &n), R(INVALID_HANDLE));
    CASE(strongroom_keyring_blind_index_lookup(k, bidx, ivals, ilens, 17, &out_buf, &n), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_blind_index_lookup(k, bidx, ivals, ilens, 1, &out_buf, &n), R(OK));
    cases++;
    CHECK(n == 2 && strongroom_buffer_len(out_buf) == 18);
    strongroom_buffer_free(out_buf);
}
static void c_record_rewrap_indexed(void) {
    strongroom_buffer *v = NULL;
    CASE(strongroom_record_rewrap_indexed(k, bidx, RECP, ctx, NULL, &v), R(NULL_POINTER));
    CASE(strongroom_record_rewrap_indexed(k, bidx, RECP, ctx, &out_buf, NULL), R(NULL_POINTER));
    CASE(strongroom_record_rewrap_indexed(NULL, bidx, RECP, ctx, &out_buf, &v), R(NULL_POINTER));
    CASE(strongroom_record_rewrap_indexed(k, NULL, RECP, ctx, &out_buf, &v), R(NULL_POINTER));
    CASE(strongroom_record_rewrap_indexed(k, bidx, NULL, 5, ctx, &out_buf, &v), R(NULL_POINTER));
    CASE(strongroom_record_rewrap_indexed(k, bidx, &one, BIG, ctx, &out_buf, &v), R(INVALID_LENGTH));
    CASE(strongroom_record_rewrap_indexed(k, bidx, NULL, 0, ctx, &out_buf, &v), R(MALFORMED));
    CASE(strongroom_record_rewrap_indexed(k, bidx, RECP, NULL, &out_buf, &v), R(AUTHENTICATION_FAILED));
    CASE(strongroom_record_rewrap_indexed(k, bidx, RECP, freed_ctx, &out_buf, &v), R(INVALID_HANDLE));
    CASE(strongroom_record_rewrap_indexed(k, freed_idx, RECP, ctx, &out_buf, &v), R(INVALID_HANDLE));
    CASE(strongroom_record_rewrap_indexed(k, empty_idx, RECP, ctx, &out_buf, &v), R(INVALID_ARGUMENT));
    cases++;
    CHECK(v == NULL);
}
static void c_blind_index_value_version(void) {
    uint32_t ver = 0;
    CASE(strongroom_blind_index_value_version(bidx, IVALP, NULL), R(NULL_POINTER));
    CASE(strongroom_blind_index_value_version(NULL, IVALP, &ver), R(NULL_POINTER));
    CASE(strongroom_blind_index_value_version(bidx, NULL, 9, &ver), R(NULL_POINTER));
    CASE(strongroom_blind_index_value_version(bidx, &one, BIG, &ver), R(INVALID_LENGTH));
    CASE(strongroom_blind_index_value_version(bidx, NULL, 0, &ver), R(MALFORMED));
    CASE(strongroom_blind_index_value_version(bidx, RECP, &ver), R(UNSUPPORTED_FORMAT));
    CASE(strongroom_blind_index_value_version(empty_idx, IVALP, &ver), R(INVALID_ARGUMENT));
    CASE(strongroom_blind_index_value_version(freed_idx, IVALP, &ver), R(INVALID_HANDLE));
    CASE(strongroom_blind_index_value_version(bidx, IVALP, &ver), R(OK));
    cases++;
    CHECK(ver == 2);
}
static void c_blind_index_value_to_text(void) {
    CASE(strongroom_blind_index_value_to_text(bidx, IVALP, NULL), R(NULL_POINTER));
    CASE(strongroom_blind_index_value_to_text(NULL, IVALP, &out_buf), R(NULL_POINTER));
    CASE(strongroom_blind_index_value_to_text(bidx, NULL, 9, &out_buf), R(NULL_POINTER));
    CASE(strongroom_blind_index_value_to_text(bidx, &one, BIG, &out_buf), R(INVALID_LENGTH));
    CASE(strongroom_blind_index_value_to_text(bidx, NULL, 0, &out_buf), R(MALFORMED));
    CASE(strongroom_blind_index_value_to_text(freed_idx, IVALP, &out_buf), R(INVALID_HANDLE));
}
static void c_blind_index_value_from_text(void) {
    CASE(strongroom_blind_index_value_from_text(bidx, S("sbi1:"), NULL), R(NULL_POINTER));
    CASE(strongroom_blind_index_value_from_text(NULL, S("sbi1:"), &out_buf), R(NULL_POINTER));
    CASE(strongroom_blind_index_value_from_text(bidx, NULL, 5, &out_buf), R(NULL_POINTER));
    CASE(strongroom_blind_index_value_from_text(bidx, &one, BIG, &out_buf), R(INVALID_LENGTH));
    CASE(strongroom_blind_index_value_from_text(bidx, NULL, 0, &out_buf), R(MALFORMED));
    CASE(strongroom_blind_index_value_from_text(bidx, S("sbi1:\xff"), &out_buf), R(INVALID_UTF8));
    CASE(strongroom_blind_index_value_from_text(bidx, S("sr1:AAAA"), &out_buf), R(MALFORMED));
    CASE(strongroom_blind_index_value_from_text(freed_idx, S("sbi1:"), &out_buf), R(INVALID_HANDLE));
}
static void c_blind_index_recommended_bits(void) {
    cases += 4;
    CHECK(strongroom_blind_index_recommended_bits(100000, 1.0) == 17);
    CHECK(strongroom_blind_index_recommended_bits(0, 1.0) == 1);
    CHECK(strongroom_blind_index_recommended_bits(10, -1.0) == 0);
    CHECK(strongroom_blind_index_recommended_bits(UINT64_MAX, 1e-300) == 256);
}

/* The transit root: no VAULT_ADDR in this process's environment, so the
 * arguments are checked, then the missing server address is the error. */
static void c_open_vault_transit(void) {
    unsetenv("VAULT_ADDR");
    unsetenv("BAO_ADDR");
    CASE(strongroom_keyring_open_vault_transit(KPATH, NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_open_vault_transit(NULL, 5, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_open_vault_transit(&one, BIG, &out_k), R(INVALID_LENGTH));
    CASE(strongroom_keyring_open_vault_transit(NULL, 0, &out_k), R(INVALID_ARGUMENT));
    CASE(strongroom_keyring_open_vault_transit(S("\xff"), &out_k), R(INVALID_UTF8));
    CASE(strongroom_keyring_open_vault_transit(S("/nonexistent/keyring.srk"), &out_k), R(NOT_FOUND));
    /* A file sealed by a key file names no transit key. */
    CASE(strongroom_keyring_open_vault_transit(KPATH, &out_k), R(MALFORMED));
}
static void c_create_vault_transit(void) {
    unsetenv("VAULT_ADDR");
    unsetenv("BAO_ADDR");
    char fresh[600];
    snprintf(fresh, sizeof fresh, "%s/vault.srk", dir);
    const uint8_t *fp = (const uint8_t *)fresh;
    size_t fl = strlen(fresh);
    CASE(strongroom_keyring_create_vault_transit(fp, fl, S("transit"), S("k"), NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_create_vault_transit(fp, fl, NULL, 1, S("k"), &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_create_vault_transit(fp, fl, S("transit"), NULL, 1, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_create_vault_transit(fp, fl, &one, BIG, S("k"), &out_k), R(INVALID_LENGTH));
    CASE(strongroom_keyring_create_vault_transit(fp, fl, S("transit"), S("k"), &out_k), R(INVALID_ARGUMENT));
    cases++;
    CHECK(access(fresh, F_OK) != 0); /* nothing written */
}

static void c_open_vault_kv(void) {
    out_k = NULL;
    unsetenv("VAULT_ADDR");
    unsetenv("BAO_ADDR");
    CASE(strongroom_keyring_open_vault_kv(S("secret"), S("app"), NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_open_vault_kv(NULL, 1, S("app"), &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_open_vault_kv(S("secret"), NULL, 1, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_open_vault_kv(&one, BIG, S("app"), &out_k), R(INVALID_LENGTH));
    CASE(strongroom_keyring_open_vault_kv(S("secret"), S("\xff"), &out_k), R(INVALID_UTF8));
    /* The server address is missing. */
    CASE(strongroom_keyring_open_vault_kv(S("secret"), S("app"), &out_k), R(INVALID_ARGUMENT));
    cases++;
    CHECK(out_k == NULL);
}
static void c_create_vault_kv(void) {
    out_k = NULL;
    unsetenv("VAULT_ADDR");
    unsetenv("BAO_ADDR");
    CASE(strongroom_keyring_create_vault_kv(S("secret"), S("app"), S("transit"), S("k"), NULL), R(NULL_POINTER));
    CASE(strongroom_keyring_create_vault_kv(NULL, 1, S("app"), S("transit"), S("k"), &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_create_vault_kv(S("secret"), S("app"), S("transit"), NULL, 1, &out_k), R(NULL_POINTER));
    CASE(strongroom_keyring_create_vault_kv(S("secret"), S("app"), &one, BIG, S("k"), &out_k), R(INVALID_LENGTH));
    CASE(strongroom_keyring_create_vault_kv(S("secret"), S("app"), S("transit"), S("\xff"), &out_k), R(INVALID_UTF8));
    CASE(strongroom_keyring_create_vault_kv(S("secret"), S("app"), S("transit"), S("k"), &out_k), R(INVALID_ARGUMENT));
    cases++;
    CHECK(out_k == NULL);
}

struct entry {
    const char *name;
    void (*run)(void);
};

static const struct entry CASES[] = {
    {"strongroom_version", c_version},
    {"strongroom_result_message", c_result_message},
    {"strongroom_result_name", c_result_name},
    {"strongroom_buffer_data", c_buffer_data},
    {"strongroom_buffer_len", c_buffer_len},
    {"strongroom_buffer_free", c_buffer_free},
    {"strongroom_context_new", c_context_new},
    {"strongroom_context_add", c_context_add},
    {"strongroom_context_from_arrays", c_context_from_arrays},
    {"strongroom_context_free", c_context_free},
    {"strongroom_keyring_new", c_keyring_new},
    {"strongroom_keyring_open_key_file", c_keyring_open_key_file},
    {"strongroom_keyring_create_key_file", c_keyring_create_key_file},
    {"strongroom_keyring_open_passphrase", c_keyring_open_passphrase},
    {"strongroom_keyring_create_passphrase", c_keyring_create_passphrase},
    {"strongroom_keyring_reload", c_keyring_reload},
    {"strongroom_keyring_reload_if_changed", c_keyring_reload_if_changed},
    {"strongroom_keyring_set_auto_reload", c_keyring_set_auto_reload},
    {"strongroom_keyring_staleness_ms", c_keyring_staleness_ms},
    {"strongroom_keyring_free", c_keyring_free},
    {"strongroom_keyring_key_create", c_key_create},
    {"strongroom_keyring_key_rotate", c_key_rotate},
    {"strongroom_keyring_key_disable", c_key_disable},
    {"strongroom_keyring_key_enable", c_key_enable},
    {"strongroom_keyring_key_destroy", c_key_destroy},
    {"strongroom_keyring_key_set_min_version", c_key_set_min_version},
    {"strongroom_keyring_key_set_rotation", c_key_set_rotation},
    {"strongroom_keyring_key_is_due", c_key_is_due},
    {"strongroom_keyring_key_count", c_key_count},
    {"strongroom_keyring_key_info", c_key_info},
    {"strongroom_keyring_version_info", c_version_info},
    {"strongroom_keyring_key_import", c_key_import},
    {"strongroom_record_len", c_record_len},
    {"strongroom_record_plaintext_len", c_record_plaintext_len},
    {"strongroom_record_encrypt", c_record_encrypt},
    {"strongroom_record_encrypt_into", c_record_encrypt_into},
    {"strongroom_record_decrypt", c_record_decrypt},
    {"strongroom_record_decrypt_into", c_record_decrypt_into},
    {"strongroom_record_rewrap", c_record_rewrap},
    {"strongroom_record_to_text", c_record_to_text},
    {"strongroom_record_from_text", c_record_from_text},
    {"strongroom_record_encrypt_with_key", c_record_encrypt_with_key},
    {"strongroom_record_decrypt_with_key", c_record_decrypt_with_key},
    {"strongroom_envelope_encrypted_len", c_envelope_encrypted_len},
    {"strongroom_envelope_encrypt", c_envelope_encrypt},
    {"strongroom_envelope_encrypt_to", c_envelope_encrypt_to},
    {"strongroom_envelope_encrypt_with_key", c_envelope_encrypt_with_key},
    {"strongroom_envelope_decrypt_with_key", c_envelope_decrypt_with_key},
    {"strongroom_envelope_decrypt", c_envelope_decrypt},
    {"strongroom_envelope_rewrap", c_envelope_rewrap},
    {"strongroom_envelope_inspect", c_envelope_inspect},
    {"strongroom_datakey_generate", c_datakey_generate},
    {"strongroom_datakey_unwrap", c_datakey_unwrap},
    {"strongroom_keyring_derive_key", c_derive_key},
    {"strongroom_keyring_derive_key_version", c_derive_key_version},
    {"strongroom_envelope_encryptor_new", c_encryptor_new},
    {"strongroom_envelope_encryptor_update_bound", c_encryptor_update_bound},
    {"strongroom_envelope_encryptor_update", c_encryptor_update},
    {"strongroom_envelope_encryptor_finish_bound", c_encryptor_finish_bound},
    {"strongroom_envelope_encryptor_finish", c_encryptor_finish},
    {"strongroom_envelope_encryptor_free", c_encryptor_free},
    {"strongroom_envelope_decryptor_new", c_decryptor_new},
    {"strongroom_envelope_decryptor_update_bound", c_decryptor_update_bound},
    {"strongroom_envelope_decryptor_update", c_decryptor_update},
    {"strongroom_envelope_decryptor_finish_bound", c_decryptor_finish_bound},
    {"strongroom_envelope_decryptor_finish", c_decryptor_finish},
    {"strongroom_envelope_decryptor_free", c_decryptor_free},
    {"strongroom_keyring_open_provider", c_open_provider},
    {"strongroom_keyring_create_provider", c_create_provider},
    {"strongroom_keyring_set_audit", c_set_audit},
    {"strongroom_file_encrypt", c_file_encrypt},
    {"strongroom_file_decrypt", c_file_decrypt},
    {"strongroom_file_rewrap", c_file_rewrap},
    {"strongroom_envelope_reader_open", c_reader_open},
    {"strongroom_envelope_reader_len", c_reader_len},
    {"strongroom_envelope_reader_read_at", c_reader_read_at},
    {"strongroom_envelope_reader_free", c_reader_free},
    {"strongroom_keyring_open_pkcs11", c_open_pkcs11},
    {"strongroom_keyring_create_pkcs11", c_create_pkcs11},
    {"strongroom_keyring_open_sealed", c_open_sealed},
    {"strongroom_blind_index_new", c_blind_index_new},
    {"strongroom_blind_index_add_field", c_blind_index_add_field},
    {"strongroom_blind_index_set_slow", c_blind_index_set_slow},
    {"strongroom_blind_index_value_len", c_blind_index_value_len},
    {"strongroom_keyring_blind_index", c_keyring_blind_index},
    {"strongroom_keyring_blind_index_lookup", c_keyring_blind_index_lookup},
    {"strongroom_record_rewrap_indexed", c_record_rewrap_indexed},
    {"strongroom_blind_index_value_version", c_blind_index_value_version},
    {"strongroom_blind_index_value_to_text", c_blind_index_value_to_text},
    {"strongroom_blind_index_value_from_text", c_blind_index_value_from_text},
    {"strongroom_blind_index_recommended_bits", c_blind_index_recommended_bits},
    {"strongroom_blind_index_free", c_blind_index_free},
    {"strongroom_keyring_open_vault_transit", c_open_vault_transit},
    {"strongroom_keyring_create_vault_transit", c_create_vault_transit},
    {"strongroom_keyring_open_vault_kv", c_open_vault_kv},
    {"strongroom_keyring_create_vault_kv", c_create_vault_kv},
};

static void setup(void) {
    CHECK(mkdtemp(dir) != NULL);
    snprintf(keyring_path, sizeof keyring_path, "%s/keyring.srk", dir);
    snprintf(key_path, sizeof key_path, "%s/root.key", dir);
    int fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    uint8_t key[32];
    memset(key, 0x42, sizeof key); /* TEST KEY */
    CHECK(fd >= 0 && write(fd, key, sizeof key) == (ssize_t)sizeof key);
    close(fd);
    OK(strongroom_keyring_create_key_file(KPATH, KFILE, &k));
    OK(strongroom_keyring_key_create(k, NAME, NULL));
    OK(strongroom_keyring_key_rotate(k, NAME, NULL));
    OK(strongroom_context_new(&ctx));
    OK(strongroom_context_add(ctx, S("t"), S("u")));
    OK(strongroom_record_encrypt(k, NAME, S("secret"), ctx, &rec));
    OK(strongroom_record_to_text(RECP, &text));
    OK(strongroom_envelope_encrypt(k, NAME, S("blob"), ctx, 0, &env));
    OK(strongroom_datakey_generate(k, NAME, ctx, &dk, &wrapped));
    OK(strongroom_keyring_new(&freed_k));
    strongroom_keyring_free(freed_k);
    OK(strongroom_context_new(&freed_ctx));
    strongroom_context_free(freed_ctx);
    OK(strongroom_record_to_text(RECP, &freed_buf));
    strongroom_buffer_free(freed_buf);
    const uint8_t *names[1] = {(const uint8_t *)"pii"};
    size_t lens[1] = {3};
    strongroom_buffer *header = NULL;
    OK(strongroom_envelope_encryptor_new(k, names, lens, 1, ctx, 64, &live_enc, &header));
    strongroom_buffer_free(header);
    OK(strongroom_envelope_decryptor_new(k, ctx, &live_dec));
    OK(strongroom_blind_index_new(S("email_idx"), NAME, 32, &bidx));
    OK(strongroom_blind_index_add_field(bidx, S("email"), S("trim,casefold")));
    OK(strongroom_blind_index_new(S("empty_idx"), NAME, 32, &empty_idx));
    OK(strongroom_blind_index_new(S("freed_idx"), NAME, 32, &freed_idx));
    strongroom_blind_index_free(freed_idx);
    OK(strongroom_keyring_blind_index(k, bidx, ivals, ilens, 1, 0, &ival));
}

int main(int argc, char **argv) {
    /* `--list`: the function names this table covers (for the check that
     * the header declares no other). */
    size_t n = sizeof CASES / sizeof CASES[0];
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n; i++) printf("%s\n", CASES[i].name);
        return 0;
    }
    setup();
    for (size_t i = 0; i < n; i++) {
        out_buf = NULL;
        CASES[i].run();
        /* Out-params are written only on success: every case above that
         * fails leaves out_buf as it was; the few that succeed free it. */
    }
    /* A panic inside the boundary: a result, and the library still works. */
    cases++;
    EXPECT(strongroom_test_panic(), R(PANIC));
    size_t count = 0;
    OK(strongroom_keyring_key_count(k, &count));
    CHECK(count == 1);

    strongroom_buffer *bufs[] = {rec, env, wrapped, dk, text, ival};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) strongroom_buffer_free(bufs[i]);
    strongroom_envelope_encryptor_free(live_enc);
    strongroom_envelope_decryptor_free(live_dec);
    strongroom_blind_index_free(bidx);
    strongroom_blind_index_free(empty_idx);
    strongroom_context_free(ctx);
    strongroom_keyring_free(k);
    CHECK(strongroom_test_live_handles() == 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    printf("robustness: %zu functions, %d cases\n", n, cases);
    return finish("robustness");
}
