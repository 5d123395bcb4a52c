/* A keyring file sealed by a key in a real PKCS#11 token (a throwaway
 * SoftHSM2 token that scripts/c-tests.sh makes), through the C API:
 * create the token key and the keyring, use it, reopen it; a wrong PIN and
 * a missing key give KEY_PROVIDER and leave no file.
 * Usage: pkcs11 MODULE TOKEN PIN DIR */
#define _DEFAULT_SOURCE 1
#include <unistd.h>

#include "check.h"

#define STR(x) (const uint8_t *)(x), strlen(x)

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: pkcs11 MODULE TOKEN PIN DIR\n");
        return 2;
    }
    const char *module = argv[1], *token = argv[2], *pin = argv[3], *dir = argv[4];
    char path[512], missing[512];
    snprintf(path, sizeof path, "%s/hsm.srk", dir);
    snprintf(missing, sizeof missing, "%s/missing.srk", dir);
    strongroom_keyring *k = NULL, *untouched = NULL;
    OK(strongroom_keyring_create_pkcs11(STR(path), STR(module), STR(token), STR(pin), S("c-root"), true, &k));
    OK(strongroom_keyring_key_create(k, S("pii"), NULL));
    strongroom_buffer *rec = NULL, *plain = NULL;
    OK(strongroom_record_encrypt(k, S("pii"), S("sealed by the token"), NULL, &rec));
    strongroom_keyring_free(k);
    k = NULL;
    OK(strongroom_keyring_open_pkcs11(STR(path), STR(module), STR(token), STR(pin), S("c-root"), &k));
    OK(strongroom_record_decrypt(k, strongroom_buffer_data(rec), strongroom_buffer_len(rec), NULL, &plain));
    CHECK(strongroom_buffer_len(plain) == 19);
    EXPECT(strongroom_keyring_open_pkcs11(STR(path), STR(module), STR(token), S("0000"), S("c-root"), &untouched),
           STRONGROOM_RESULT_KEY_PROVIDER);
    EXPECT(strongroom_keyring_create_pkcs11(STR(missing), STR(module), STR(token), STR(pin), S("no-such-key"), false,
                                            &untouched),
           STRONGROOM_RESULT_KEY_PROVIDER);
    CHECK(access(missing, F_OK) != 0);
    EXPECT(strongroom_keyring_create_pkcs11(STR(path), STR(module), STR(token), STR(pin), S("c-root"), false,
                                            &untouched),
           STRONGROOM_RESULT_ALREADY_EXISTS);
    EXPECT(strongroom_keyring_open_pkcs11(STR(path), S("/nonexistent/module.so"), STR(token), STR(pin), S("c-root"),
                                          &untouched),
           STRONGROOM_RESULT_KEY_PROVIDER);
    CHECK(untouched == NULL);
    strongroom_buffer_free(rec);
    strongroom_buffer_free(plain);
    strongroom_keyring_free(k);
    CHECK(strongroom_test_live_handles() == 0);
    return finish("pkcs11");
}
