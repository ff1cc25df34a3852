import { createHash } from 'node:crypto';
import sodium from 'libsodium-wrappers';

/** A libsodium box keypair of one secrets scope (a repo, an environment, an org), with GitHub's key id. */
export interface ScopeKeypair {
  /** GitHub's `key_id`: a decimal string, as the real API returns it. */
  keyId: string;
  /** Base64 (original variant) public key, as `GET .../secrets/public-key` returns it. */
  publicKeyBase64: string;
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

/**
 * Deterministic keypairs: the seed of a scope's box keypair is a hash of the lab secret and the
 * scope name, so the same scenario seed yields the same public keys and key ids every time.
 */
export class SealedBoxKeys {
  readonly #labSecret: string;
  readonly #cache = new Map<string, ScopeKeypair>();

  constructor(labSecret: string) {
    this.#labSecret = labSecret;
  }

  /** libsodium is WebAssembly: it must finish loading before any key is derived. */
  static ready(): Promise<void> {
    return sodium.ready;
  }

  /** The keypair of a scope such as `repo:org/app`, `env:org/app:prod`, `org:org`. Call after `ready()`. */
  keypair(scope: string): ScopeKeypair {
    const cached = this.#cache.get(scope);
    if (cached) return cached;
    const seed = createHash('sha256').update(`${this.#labSecret}:box:${scope}`).digest();
    const pair = sodium.crypto_box_seed_keypair(new Uint8Array(seed));
    const idHash = createHash('sha256').update(`${this.#labSecret}:key-id:${scope}`).digest();
    // Real key ids are 18-19 digit decimal strings ("568250167242549743").
    const keyId = (idHash.readBigUInt64BE(0) % 9_000_000_000_000_000_000n + 1_000_000_000_000_000_000n).toString();
    const keypair: ScopeKeypair = {
      keyId,
      publicKeyBase64: sodium.to_base64(pair.publicKey, sodium.base64_variants.ORIGINAL),
      publicKey: pair.publicKey,
      privateKey: pair.privateKey,
    };
    this.#cache.set(scope, keypair);
    return keypair;
  }

  /**
   * Opens a sealed box sent as `encrypted_value` (base64, original variant, as GitHub's docs
   * produce it with libsodium-wrappers). Returns undefined when it does not decode or open:
   * the client used another key or mangled the encoding.
   */
  open(scope: string, encryptedBase64: string): string | undefined {
    const { publicKey, privateKey } = this.keypair(scope);
    try {
      const sealed = sodium.from_base64(encryptedBase64, sodium.base64_variants.ORIGINAL);
      return sodium.to_string(sodium.crypto_box_seal_open(sealed, publicKey, privateKey));
    } catch {
      return undefined;
    }
  }
}
