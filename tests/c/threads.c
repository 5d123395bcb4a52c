/* One keyring handle shared by 8 C threads, each doing N record and
 * envelope round trips (default 10,000), while a ninth rotates the key 200
 * times: no errors, every round trip exact (issue #12). `threads N` sets
 * the per-thread count (the valgrind run uses fewer). */
#define _DEFAULT_SOURCE 1
#include <pthread.h>
#include <time.h>

#include "check.h"

#define WORKERS 8
#define ROTATIONS 200

static strongroom_keyring *k;
static strongroom_context *ctx;
static long per_thread = 10000;
static volatile int workers_done = 0;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;

struct result {
    long ok, errors;
};

static void *worker(void *arg) {
    struct result *res = (struct result *)arg;
    uint8_t data[64];
    for (long i = 0; i < per_thread; i++) {
        for (size_t j = 0; j < sizeof data; j++) data[j] = (uint8_t)(i + j);
        strongroom_buffer *rec = NULL, *plain = NULL;
        int good = 0;
        if (strongroom_record_encrypt(k, S("pii"), data, sizeof data, ctx, &rec) == STRONGROOM_RESULT_OK &&
            strongroom_record_decrypt(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), ctx, &plain) ==
                STRONGROOM_RESULT_OK)
            good = strongroom_buffer_len(plain) == sizeof data &&
                   memcmp(strongroom_buffer_data(plain), data, sizeof data) == 0;
        strongroom_buffer_free(rec);
        strongroom_buffer_free(plain);
        if (i % 100 == 0) { /* an envelope every 100 records */
            strongroom_buffer *env = NULL, *out = NULL;
            good = good && strongroom_envelope_encrypt(k, S("pii"), data, sizeof data, ctx, 0, &env) ==
                               STRONGROOM_RESULT_OK &&
                   strongroom_envelope_decrypt(k, strongroom_buffer_data(env), strongroom_buffer_len(env), ctx,
                                               &out) == STRONGROOM_RESULT_OK &&
                   strongroom_buffer_len(out) == sizeof data;
            strongroom_buffer_free(env);
            strongroom_buffer_free(out);
        }
        if (good) res->ok++;
        else res->errors++;
    }
    pthread_mutex_lock(&done_lock);
    workers_done++;
    pthread_mutex_unlock(&done_lock);
    return NULL;
}

static void *rotator(void *arg) {
    long *rotations = (long *)arg;
    struct timespec pause = {0, 2 * 1000 * 1000};
    for (int i = 0; i < ROTATIONS; i++) {
        uint32_t v = 0;
        if (strongroom_keyring_key_rotate(k, S("pii"), &v) == STRONGROOM_RESULT_OK) (*rotations)++;
        pthread_mutex_lock(&done_lock);
        int all_done = workers_done == WORKERS;
        pthread_mutex_unlock(&done_lock);
        if (!all_done) nanosleep(&pause, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) per_thread = atol(argv[1]);
    OK(strongroom_keyring_new(&k));
    OK(strongroom_keyring_key_create(k, S("pii"), NULL));
    OK(strongroom_context_new(&ctx));
    OK(strongroom_context_add(ctx, S("table"), S("users")));
    pthread_t threads[WORKERS], rot;
    struct result results[WORKERS];
    long rotations = 0;
    memset(results, 0, sizeof results);
    for (int i = 0; i < WORKERS; i++) CHECK(pthread_create(&threads[i], NULL, worker, &results[i]) == 0);
    CHECK(pthread_create(&rot, NULL, rotator, &rotations) == 0);
    long ok = 0, errors = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(threads[i], NULL);
        ok += results[i].ok;
        errors += results[i].errors;
    }
    pthread_join(rot, NULL);
    CHECK(errors == 0);
    CHECK(ok == WORKERS * per_thread);
    CHECK(rotations == ROTATIONS);
    strongroom_key_info info;
    OK(strongroom_keyring_key_info(k, 0, &info));
    CHECK(info.primary_version == ROTATIONS + 1);
    printf("threads: %d threads x %ld round trips, %ld rotations meanwhile: %ld ok, %ld errors\n", WORKERS,
           per_thread, rotations, ok, errors);
    strongroom_context_free(ctx);
    strongroom_keyring_free(k);
    CHECK(strongroom_test_live_handles() == 0);
    return finish("threads");
}
