/* Record encrypt + decrypt through the C API, timed (benches/c_overhead.sh
 * runs it interleaved with the same loop through the Rust API). Prints
 * "c <size> <ns per round trip>" for 64 B and 1 KiB. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strongroom.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    long iterations = argc > 1 ? atol(argv[1]) : 100000;
    strongroom_keyring *k = NULL;
    strongroom_context *ctx = NULL;
    if (strongroom_keyring_new(&k) || strongroom_keyring_key_create(k, (const uint8_t *)"pii", 3, NULL) ||
        strongroom_context_new(&ctx) ||
        strongroom_context_add(ctx, (const uint8_t *)"table", 5, (const uint8_t *)"customers", 9) ||
        strongroom_context_add(ctx, (const uint8_t *)"column", 6, (const uint8_t *)"email", 5))
        return 1;
    const size_t sizes[2] = {64, 1024};
    uint8_t plain[1024];
    memset(plain, 0x61, sizeof plain);
    for (int s = 0; s < 2; s++) {
        double start = now_ns();
        for (long i = 0; i < iterations; i++) {
            strongroom_buffer *rec = NULL, *out = NULL;
            if (strongroom_record_encrypt(k, (const uint8_t *)"pii", 3, plain, sizes[s], ctx, &rec) ||
                strongroom_record_decrypt(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), ctx, &out))
                return 1;
            strongroom_buffer_free(rec);
            strongroom_buffer_free(out);
        }
        printf("c %zu %.0f\n", sizes[s], (now_ns() - start) / (double)iterations);
    }
    strongroom_context_free(ctx);
    strongroom_keyring_free(k);
    return 0;
}
