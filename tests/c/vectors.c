/* Every golden vector (records, envelopes, wrapped data keys, blind-index
 * values) through the
 * C API: the keyring is imported with strongroom_keyring_key_import, the
 * vector opened with the function its opener names, and the result must be
 * exactly the vector's `result` (by name), with exactly its plaintext.
 * Input: the line file tests/c/vectors.py writes. */
#define _DEFAULT_SOURCE 1
#include "check.h"

static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
}

/* Hex to bytes (no sscanf: the megabyte vectors run under valgrind). */
static uint8_t *unhex(const char *h, size_t *len) {
    size_t n = strlen(h);
    if (strcmp(h, "-") == 0) n = 0;
    uint8_t *out = (uint8_t *)malloc(n / 2 + 1);
    for (size_t i = 0; i + 1 < n; i += 2) out[i / 2] = (uint8_t)(nibble(h[i]) << 4 | nibble(h[i + 1]));
    *len = n / 2;
    return out;
}

/* A context from "k:v k:v" (space-separated) or "k:v,k:v" (comma) pairs. */
static strongroom_context *context_of(char *pairs, const char *sep) {
    strongroom_context *ctx = NULL;
    OK(strongroom_context_new(&ctx));
    if (strcmp(pairs, "-") == 0) return ctx;
    char *save = NULL;
    for (char *tok = strtok_r(pairs, sep, &save); tok; tok = strtok_r(NULL, sep, &save)) {
        char *colon = strchr(tok, ':');
        if (!colon) continue;
        *colon = 0;
        size_t kl, vl;
        uint8_t *key = unhex(tok, &kl), *val = unhex(colon + 1, &vl);
        OK(strongroom_context_add(ctx, key, kl, val, vl));
        free(key);
        free(val);
    }
    return ctx;
}

static void import_key(strongroom_keyring *k, char *line) {
    char name_hex[600], id_hex[16];
    unsigned primary, min;
    int used = 0;
    CHECK(sscanf(line, "K %599s %15s %u %u %n", name_hex, id_hex, &primary, &min, &used) == 4);
    strongroom_version_import versions[64];
    uint8_t *materials[64];
    size_t count = 0, name_len;
    char *save = NULL;
    for (char *v = strtok_r(line + used, ",\n", &save); v && count < 64; v = strtok_r(NULL, ",\n", &save)) {
        size_t ml;
        versions[count].state = (uint8_t)(v[0] - '0');
        versions[count].created_unix_seconds = 0;
        materials[count] = unhex(v + 2, &ml);
        versions[count].material = ml == 32 ? materials[count] : NULL;
        count++;
    }
    uint8_t *name = unhex(name_hex, &name_len);
    OK(strongroom_keyring_key_import(k, name, name_len, (uint32_t)strtoul(id_hex, NULL, 16), 0, primary, min,
                                     versions, count));
    for (size_t i = 0; i < count; i++) free(materials[i]);
    free(name);
}

/* The X line of the current vector (blind-index values). */
static char *g_xline = NULL;

/* The next space-separated word of `*s`, NUL-terminated in place. */
static char *word_of(char **s) {
    char *w = *s;
    if (!w || !*w) return NULL;
    char *sp = strchr(w, ' ');
    if (sp) {
        *sp = 0;
        *s = sp + 1;
    } else {
        *s = w + strlen(w);
    }
    return w;
}

/* A blind-index vector: the definition from the O line ("index name key
 * bits slow version text field:transforms..."), the values from the X
 * line; computes, or parses `in` (a binary value, or with text 1 the text
 * form, whose binary value is returned). */
static strongroom_result run_index(const char *kind, strongroom_keyring *k, char *opener, char *xline,
                                   const uint8_t *in, size_t in_len, strongroom_buffer **out) {
    char *s = opener;
    word_of(&s); /* "index" */
    size_t nl, kl;
    uint8_t *name = unhex(word_of(&s), &nl), *key = unhex(word_of(&s), &kl);
    unsigned bits = (unsigned)strtoul(word_of(&s), NULL, 10);
    char *slow = word_of(&s);
    uint32_t version = (uint32_t)strtoul(word_of(&s), NULL, 10);
    int text = strcmp(word_of(&s), "1") == 0;
    strongroom_blind_index *idx = NULL;
    strongroom_result r = bits > 65535 ? STRONGROOM_RESULT_INVALID_ARGUMENT
                                       : strongroom_blind_index_new(name, nl, key, kl, (uint16_t)bits, &idx);
    free(name);
    free(key);
    for (char *f = word_of(&s); f && r == STRONGROOM_RESULT_OK; f = word_of(&s)) {
        char *colon = strchr(f, ':');
        *colon = 0;
        size_t fl, tl;
        uint8_t *field = unhex(f, &fl), *ts = unhex(colon + 1, &tl);
        r = strongroom_blind_index_add_field(idx, field, fl, ts, tl);
        free(field);
        free(ts);
    }
    if (r == STRONGROOM_RESULT_OK && strcmp(slow, "-") != 0) {
        unsigned m, t, p;
        CHECK(sscanf(slow, "%u,%u,%u", &m, &t, &p) == 3);
        r = strongroom_blind_index_set_slow(idx, m, t, p);
    }
    if (r == STRONGROOM_RESULT_OK && strcmp(kind, "blind_index_parse") == 0) {
        if (text) {
            r = strongroom_blind_index_value_from_text(idx, in, in_len, out);
        } else {
            /* Binary: check it, then through the text form and back, which
             * must give the same bytes. */
            uint32_t v = 0;
            strongroom_buffer *txt = NULL;
            r = strongroom_blind_index_value_version(idx, in, in_len, &v);
            if (r == STRONGROOM_RESULT_OK) {
                CHECK(v > 0);
                OK(strongroom_blind_index_value_to_text(idx, in, in_len, &txt));
                OK(strongroom_blind_index_value_from_text(idx, strongroom_buffer_data(txt), strongroom_buffer_len(txt),
                                                          out));
                strongroom_buffer_free(txt);
            }
        }
    } else if (r == STRONGROOM_RESULT_OK) {
        const uint8_t *ptrs[16];
        size_t lens[16];
        uint8_t *owned[16];
        size_t count = 0;
        char *save = NULL;
        for (char *tok = strtok_r(xline + 2, ",", &save); tok && count < 16; tok = strtok_r(NULL, ",", &save)) {
            owned[count] = unhex(tok, &lens[count]);
            ptrs[count] = owned[count];
            count++;
        }
        r = strongroom_keyring_blind_index(k, idx, ptrs, lens, count, version, out);
        if (r == STRONGROOM_RESULT_OK) {
            strongroom_buffer *all = NULL;
            size_t n = 0;
            OK(strongroom_keyring_blind_index_lookup(k, idx, ptrs, lens, count, &all, &n));
            size_t len = strongroom_blind_index_value_len(idx);
            int found = 0;
            for (size_t i = 0; i < n; i++)
                found |= memcmp(strongroom_buffer_data(all) + i * len, strongroom_buffer_data(*out), len) == 0;
            CHECK(found && strongroom_buffer_len(all) == n * len);
            strongroom_buffer_free(all);
        }
        for (size_t i = 0; i < count; i++) free(owned[i]);
    }
    strongroom_blind_index_free(idx);
    return r;
}

/* Runs one vector; `opener` is the O line's words after "O ". */
static strongroom_result run(const char *kind, strongroom_keyring *k, strongroom_context *ctx, char *opener,
                             const uint8_t *in, size_t in_len, strongroom_buffer **out) {
    if (strcmp(kind, "record") == 0) {
        if (strncmp(opener, "standalone ", 11) == 0) {
            size_t kl;
            uint8_t *key = unhex(opener + 11, &kl);
            strongroom_result r = strongroom_record_decrypt_with_key(key, kl, in, in_len, ctx, out);
            free(key);
            return r;
        }
        return strongroom_record_decrypt(k, in, in_len, ctx, out);
    }
    if (strcmp(kind, "record_text") == 0) {
        strongroom_buffer *bin = NULL;
        strongroom_result r = strongroom_record_from_text(in, in_len, &bin);
        if (r != STRONGROOM_RESULT_OK) return r;
        r = strongroom_record_decrypt(k, strongroom_buffer_data(bin), strongroom_buffer_len(bin), ctx, out);
        strongroom_buffer_free(bin);
        return r;
    }
    if (strcmp(kind, "datakey") == 0) return strongroom_datakey_unwrap(k, in, in_len, ctx, out);
    if (strncmp(kind, "blind_index", 11) == 0) return run_index(kind, k, opener, g_xline, in, in_len, out);
    /* Envelopes. */
    if (strcmp(opener, "keyring") == 0) return strongroom_envelope_decrypt(k, in, in_len, ctx, out);
    char word[32], a[4096], b[4096];
    strongroom_buffer *key = NULL;
    strongroom_result r;
    if (sscanf(opener, "%31s %4095s %4095s", word, a, b) < 2) return STRONGROOM_RESULT_UNKNOWN_ERROR;
    if (strcmp(word, "data_key") == 0) {
        size_t wl;
        uint8_t *wrapped = unhex(a, &wl);
        strongroom_context *dctx = context_of(b, ",");
        r = strongroom_datakey_unwrap(k, wrapped, wl, dctx, &key);
        strongroom_context_free(dctx);
        free(wrapped);
    } else {
        char name_hex[600], c[4096];
        unsigned version;
        CHECK(sscanf(opener, "%31s %599s %u %4095s", word, name_hex, &version, c) == 4);
        size_t nl;
        uint8_t *name = unhex(name_hex, &nl);
        strongroom_context *dctx = context_of(c, ",");
        r = strongroom_keyring_derive_key_version(k, name, nl, version, dctx, &key);
        strongroom_context_free(dctx);
        free(name);
    }
    if (r == STRONGROOM_RESULT_OK)
        r = strongroom_envelope_decrypt_with_key(strongroom_buffer_data(key), strongroom_buffer_len(key), in, in_len,
                                                 ctx, out);
    strongroom_buffer_free(key);
    return r;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: vectors FILE (from tests/c/vectors.py)\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    CHECK(f != NULL);
    if (!f) return finish("vectors");
    char *line = NULL;
    size_t cap = 0;
    int vectors = 0, ok_count = 0, fail_count = 0;
    char kind[32] = "", name[256] = "", result[64] = "";
    strongroom_keyring *k = NULL;
    strongroom_context *ctx = NULL;
    char *opener = NULL;
    uint8_t *input = NULL, *expected = NULL;
    size_t input_len = 0, expected_len = 0;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = 0;
        switch (line[0]) {
        case 'V':
            CHECK(sscanf(line, "V %31s %255s %63s", kind, name, result) == 3);
            OK(strongroom_keyring_new(&k));
            break;
        case 'K':
            import_key(k, line);
            break;
        case 'C':
            ctx = context_of(line + 1, " ");
            break;
        case 'O':
            opener = strdup(line + 2);
            break;
        case 'X':
            g_xline = strdup(line);
            break;
        case 'I':
            input = unhex(line + 2, &input_len);
            break;
        case 'P':
            expected = unhex(line + 2, &expected_len);
            break;
        case 'E': {
            strongroom_buffer *out = NULL;
            strongroom_result r = run(kind, k, ctx, opener, input, input_len, &out);
            int good = strcmp(strongroom_result_name(r), result) == 0;
            if (good && r == STRONGROOM_RESULT_OK)
                good = strongroom_buffer_len(out) == expected_len &&
                       (expected_len == 0 || memcmp(strongroom_buffer_data(out), expected, expected_len) == 0);
            g_checks++;
            if (!good) {
                g_failures++;
                fprintf(stderr, "vectors: %s: got %s, want %s\n", name, strongroom_result_name(r), result);
            }
            if (r == STRONGROOM_RESULT_OK) ok_count++;
            else fail_count++;
            vectors++;
            strongroom_buffer_free(out);
            strongroom_keyring_free(k);
            strongroom_context_free(ctx);
            free(opener);
            free(g_xline);
            g_xline = NULL;
            free(input);
            free(expected);
            k = NULL;
            ctx = NULL;
            opener = NULL;
            input = expected = NULL;
            break;
        }
        default:
            break;
        }
    }
    free(line);
    fclose(f);
    printf("vectors: %d golden vectors through the C API (%d open to their exact plaintext, %d give their exact "
           "error)\n",
           vectors, ok_count, fail_count);
    CHECK(vectors >= 150);
    CHECK(strongroom_test_live_handles() == 0);
    return finish("vectors");
}
