"""Every name the encryption room writes or reads, in one place."""

API_VERSION = "apiserver.config.k8s.io/v1"
KIND = "EncryptionConfiguration"

AESGCM = "aesgcm"                    # Kubernetes' provider of that name: AES-GCM, random 96-bit nonce per write
CHACHA20POLY1305 = "chacha20poly1305"  # ours: ChaCha20-Poly1305 (IETF, 96-bit random nonce); not Kubernetes' secretbox
IDENTITY = "identity"                # no encryption: writes plain values, reads values without a prefix
PROVIDERS = (AESGCM, CHACHA20POLY1305, IDENTITY)

# Key lengths in bytes each AEAD accepts (AES-128/192/256; ChaCha20 only 256).
KEY_SIZES = {AESGCM: (16, 24, 32), CHACHA20POLY1305: (32,)}
NONCE_BYTES = 12

# A stored value encrypted by provider P under key K starts with b"k8s:enc:P:v1:K:" (Kubernetes' format),
# then the nonce, then the ciphertext with its tag.
PREFIX = b"k8s:enc:"
FORMAT_VERSION = b"v1"

DEFAULT_FILE = "encryption.yaml"     # in the data directory's tls/, beside the CA, when no file is given
DEFAULT_KEY_NAME = "key1"
DEFAULT_KEY_BYTES = 32
