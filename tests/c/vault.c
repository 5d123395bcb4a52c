/* The transit root through the C API against a real OpenBao dev server
 * (scripts/vault-tests.sh starts it and sets VAULT_ADDR and VAULT_TOKEN;
 * the transit key strongroom-cli exists). Usage: vault DIR. */
#define _DEFAULT_SOURCE 1
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: vault DIR\n");
        return 2;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/c-keyring.srk", argv[1]);
    const uint8_t *p = (const uint8_t *)path;
    size_t pl = strlen(path);
    strongroom_keyring *k = NULL, *again = NULL, *untouched = NULL;
    OK(strongroom_keyring_create_vault_transit(p, pl, S("transit"), S("strongroom-cli"), &k));
    EXPECT(strongroom_keyring_create_vault_transit(p, pl, S("transit"), S("strongroom-cli"), &untouched),
           STRONGROOM_RESULT_ALREADY_EXISTS);
    OK(strongroom_keyring_key_create(k, S("pii"), NULL));
    strongroom_buffer *rec = NULL, *plain = NULL;
    OK(strongroom_record_encrypt(k, S("pii"), S("ada@example.com"), NULL, &rec));
    OK(strongroom_keyring_open_vault_transit(p, pl, &again));
    OK(strongroom_record_decrypt(again, strongroom_buffer_data(rec), strongroom_buffer_len(rec), NULL, &plain));
    CHECK(strongroom_buffer_len(plain) == 15 && memcmp(strongroom_buffer_data(plain), "ada@example.com", 15) == 0);
    /* A wrong token: the provider's error, nothing opened. */
    const char *token = getenv("VAULT_TOKEN");
    char *saved = token ? strdup(token) : NULL;
    setenv("VAULT_TOKEN", "not-a-token", 1);
    EXPECT(strongroom_keyring_open_vault_transit(p, pl, &untouched), STRONGROOM_RESULT_KEY_PROVIDER);
    CHECK(untouched == NULL);
    if (saved) setenv("VAULT_TOKEN", saved, 1);
    free(saved);

    /* A keyring in KV v2 shared by two handles (two service instances). */
    strongroom_keyring *kv_a = NULL, *kv_b = NULL, *kv_none = NULL;
    OK(strongroom_keyring_create_vault_kv(S("secret"), S("strongroom/c"), S("transit"), S("strongroom-cli"), &kv_a));
    EXPECT(strongroom_keyring_create_vault_kv(S("secret"), S("strongroom/c"), S("transit"), S("strongroom-cli"),
                                              &kv_none),
           STRONGROOM_RESULT_KEY_PROVIDER); /* check-and-set: it exists */
    OK(strongroom_keyring_key_create(kv_a, S("pii"), NULL));
    OK(strongroom_keyring_open_vault_kv(S("secret"), S("strongroom/c"), &kv_b));
    uint32_t v = 0;
    OK(strongroom_keyring_key_rotate(kv_b, S("pii"), &v));
    CHECK(v == 2);
    OK(strongroom_keyring_key_rotate(kv_a, S("pii"), &v)); /* on top of b's: none lost */
    CHECK(v == 3);
    bool reloaded = false;
    OK(strongroom_keyring_reload_if_changed(kv_b, &reloaded));
    CHECK(reloaded);
    OK(strongroom_keyring_reload_if_changed(kv_b, &reloaded));
    CHECK(!reloaded);
    strongroom_key_info info;
    OK(strongroom_keyring_key_info(kv_b, 0, &info));
    CHECK(info.primary_version == 3 && info.version_count == 3);
    uint64_t ms = UINT64_MAX;
    OK(strongroom_keyring_staleness_ms(kv_b, &ms));
    CHECK(ms < 60 * 1000);
    /* Automatic reload: b sees a's next rotation without a reload call. */
    OK(strongroom_keyring_set_auto_reload(kv_b, 5));
    OK(strongroom_keyring_key_rotate(kv_a, S("pii"), &v));
    int seen = 0;
    for (int i = 0; i < 4000 && !seen; i++) {
        OK(strongroom_keyring_key_info(kv_b, 0, &info));
        seen = info.primary_version == 4;
        if (!seen) usleep(5000);
    }
    CHECK(seen);
    OK(strongroom_keyring_set_auto_reload(kv_b, 0));
    EXPECT(strongroom_keyring_open_vault_kv(S("secret"), S("strongroom/none"), &kv_none),
           STRONGROOM_RESULT_KEY_PROVIDER);
    CHECK(kv_none == NULL);
    strongroom_keyring_free(kv_a);
    strongroom_keyring_free(kv_b);

    strongroom_buffer_free(rec);
    strongroom_buffer_free(plain);
    strongroom_keyring_free(k);
    strongroom_keyring_free(again);
    CHECK(strongroom_test_live_handles() == 0);
    return finish("vault (C API)");
}
