# The least an instance needs to open and save a keyring sealed by the
# transit key "strongroom-keyring" (FORMAT.md 10.3, root kind 5): wrap and
# unwrap through that one key, and read its versions. Nothing here can
# export, rotate or delete the key: an operator does that with another
# token. Put your key's name in, and the engine's mount if it is not
# "transit", then: bao policy write strongroom docs/vault/strongroom-transit.hcl
path "transit/encrypt/strongroom-keyring" {
  capabilities = ["update"]
}

path "transit/decrypt/strongroom-keyring" {
  capabilities = ["update"]
}

path "transit/keys/strongroom-keyring" {
  capabilities = ["read"]
}
