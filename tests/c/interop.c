/* The C side of the C / Rust / Python interop matrix (issues #12, #13;
 * scripts/interop-matrix.sh runs it): `interop make DIR` creates a keyring
 * file (key-file root) with keys "a" and "b", and writes records and
 * envelopes made in C (c-*.sr); ffi-c/tests/interop.rs and
 * ffi-python/tests/interop.py write theirs (rust-*.sr, python-*.sr);
 * `interop check DIR PRODUCER...` decrypts each producer's in C.
 * The matrix: sizes 0, 1, chunk-1, chunk, chunk+1, 3 chunks (chunk 64)
 * and 10 MiB (chunk 64 KiB); 1 and 2 recipients; with and without a
 * context. Every plaintext must come back byte-exact. */
#define _DEFAULT_SOURCE 1
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static const size_t SIZES[] = {0, 1, 63, 64, 65, 192, 10u << 20};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])
static const size_t RECORD_SIZES[] = {0, 1, 63, 64, 65, 192, 1u << 20};

static void pattern(uint8_t *buf, size_t size) {
    for (size_t i = 0; i < size; i++) buf[i] = (uint8_t)(i * 131 + size * 7 + 3);
}

static strongroom_context *context(int with) {
    strongroom_context *ctx = NULL;
    OK(strongroom_context_new(&ctx));
    if (with) {
        OK(strongroom_context_add(ctx, S("tenant"), S("acme")));
        OK(strongroom_context_add(ctx, S("purpose"), S("interop")));
    }
    return ctx;
}

static void write_file(const char *path, const uint8_t *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(len == 0 || fwrite(data, 1, len, f) == len);
    fclose(f);
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = (uint8_t *)malloc((size_t)n + 1);
    CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static strongroom_keyring *open_keyring(const char *dir, int create) {
    char path[512], key[512];
    snprintf(path, sizeof path, "%s/keyring.srk", dir);
    snprintf(key, sizeof key, "%s/root.key", dir);
    strongroom_keyring *k = NULL;
    if (create) {
        int fd = open(key, O_WRONLY | O_CREAT | O_EXCL, 0600);
        uint8_t bytes[32];
        for (int i = 0; i < 32; i++) bytes[i] = (uint8_t)(0xA0 + i); /* TEST KEY */
        CHECK(fd >= 0 && write(fd, bytes, 32) == 32);
        close(fd);
        OK(strongroom_keyring_create_key_file((const uint8_t *)path, strlen(path), (const uint8_t *)key,
                                              strlen(key), &k));
        OK(strongroom_keyring_key_create(k, S("a"), NULL));
        OK(strongroom_keyring_key_create(k, S("b"), NULL));
    } else {
        OK(strongroom_keyring_open_key_file((const uint8_t *)path, strlen(path), (const uint8_t *)key,
                                            strlen(key), &k));
    }
    return k;
}

static int make(const char *dir) {
    strongroom_keyring *k = open_keyring(dir, 1);
    const uint8_t *names[2] = {(const uint8_t *)"a", (const uint8_t *)"b"};
    size_t lens[2] = {1, 1};
    int made = 0;
    for (int with = 0; with < 2; with++) {
        strongroom_context *ctx = context(with);
        for (size_t s = 0; s < NSIZES; s++) {
            size_t size = SIZES[s];
            uint8_t *pt = (uint8_t *)malloc(size + 1);
            pattern(pt, size);
            uint32_t chunk = size > 1000 ? 0 : 64;
            for (size_t r = 1; r <= 2; r++) {
                strongroom_buffer *env = NULL;
                OK(strongroom_envelope_encrypt_to(k, names, lens, r, pt, size, ctx, chunk, &env));
                char path[600];
                snprintf(path, sizeof path, "%s/c-env-%zu-%zu-%d.sr", dir, size, r, with);
                write_file(path, strongroom_buffer_data(env), strongroom_buffer_len(env));
                strongroom_buffer_free(env);
                made++;
            }
            free(pt);
            size = RECORD_SIZES[s];
            pt = (uint8_t *)malloc(size + 1);
            pattern(pt, size);
            strongroom_buffer *rec = NULL;
            OK(strongroom_record_encrypt(k, S("a"), pt, size, ctx, &rec));
            char path[600];
            snprintf(path, sizeof path, "%s/c-rec-%zu-%d.sr", dir, size, with);
            write_file(path, strongroom_buffer_data(rec), strongroom_buffer_len(rec));
            strongroom_buffer_free(rec);
            free(pt);
            made++;
        }
        strongroom_context_free(ctx);
    }
    strongroom_keyring_free(k);
    printf("interop: C made %d records and envelopes\n", made);
    return made;
}

/* Decrypts every PRODUCER-env-SIZE-R-CTX.sr and PRODUCER-rec-SIZE-CTX.sr. */
static int check(const char *dir, const char *producer) {
    strongroom_keyring *k = open_keyring(dir, 0);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *e;
    int checked = 0;
    while (d && (e = readdir(d)) != NULL) {
        size_t size, r;
        int with;
        size_t plen = strlen(producer);
        if (strncmp(e->d_name, producer, plen) != 0 || e->d_name[plen] != '-') continue;
        const char *rest = e->d_name + plen;
        int is_env = sscanf(rest, "-env-%zu-%zu-%d.sr", &size, &r, &with) == 3;
        int is_rec = !is_env && sscanf(rest, "-rec-%zu-%d.sr", &size, &with) == 2;
        if (!is_env && !is_rec) continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        uint8_t *bytes = read_file(path, &len);
        strongroom_context *ctx = context(with);
        strongroom_buffer *plain = NULL;
        if (is_env) OK(strongroom_envelope_decrypt(k, bytes, len, ctx, &plain));
        else OK(strongroom_record_decrypt(k, bytes, len, ctx, &plain));
        uint8_t *want = (uint8_t *)malloc(size + 1);
        pattern(want, size);
        CHECK(strongroom_buffer_len(plain) == size &&
              (size == 0 || memcmp(strongroom_buffer_data(plain), want, size) == 0));
        free(want);
        free(bytes);
        strongroom_buffer_free(plain);
        strongroom_context_free(ctx);
        checked++;
    }
    if (d) closedir(d);
    strongroom_keyring_free(k);
    printf("interop: %s -> C: %d records and envelopes decrypted, byte-exact\n", producer, checked);
    return checked;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "check") == 0 && argc < 4)) {
        fprintf(stderr, "usage: interop make DIR | interop check DIR PRODUCER...\n");
        return 2;
    }
    /* 2 envelopes and 1 record per size and context, from each producer. */
    if (strcmp(argv[1], "make") == 0) {
        CHECK(make(argv[2]) == (int)(NSIZES * 3 * 2));
    } else {
        for (int i = 3; i < argc; i++) CHECK(check(argv[2], argv[i]) == (int)(NSIZES * 3 * 2));
    }
    CHECK(strongroom_test_live_handles() == 0);
    return finish(argv[1]);
}
