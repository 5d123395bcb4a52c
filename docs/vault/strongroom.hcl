# The least an instance needs (docs/VAULT.md): wrap and unwrap the
# keyring's sealing key through the transit key "strongroom-keyring"
# (FORMAT.md 10.3, root kind 5) and read its versions; read and write the
# shared keyring in the KV v2 secret "secret/strongroom/app" with
# check-and-set, and destroy its old versions when a key version is
# destroyed. Nothing here can export, rotate or delete the transit key, or
# delete the KV secret's metadata: an operator does that with another
# token. Put your key's name and secret path in (and the mounts, if not
# "transit" and "secret"), then: bao policy write strongroom strongroom.hcl
path "transit/encrypt/strongroom-keyring" {
  capabilities = ["update"]
}

path "transit/decrypt/strongroom-keyring" {
  capabilities = ["update"]
}

path "transit/keys/strongroom-keyring" {
  capabilities = ["read"]
}

path "secret/data/strongroom/app" {
  capabilities = ["create", "read", "update"]
}

path "secret/metadata/strongroom/app" {
  capabilities = ["read"]
}

# Only for crypto-shredding (KvStore::destroy_history); leave it out of
# instances that never destroy key versions.
path "secret/destroy/strongroom/app" {
  capabilities = ["update"]
}
