/* The transit root through the C API against a real OpenBao dev server
 * (scripts/vault-tests.sh starts it and sets VAULT_ADDR and VAULT_TOKEN;
 * the transit key strongroom-cli exists). Usage: vault DIR. */
#define _DEFAULT_SOURCE 1
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
    strongroom_buffer_free(rec);
    strongroom_buffer_free(plain);
    strongroom_keyring_free(k);
    strongroom_keyring_free(again);
    CHECK(strongroom_test_live_handles() == 0);
    return finish("vault (C API)");
}
