//! Checks of a secret's own structure, for formats that carry a checksum (a rule's
//! `checksum` key): a match that fails its format's checksum is no key, whatever its
//! shape, and is not reported. Cryptocurrency wallet keys are the formats that have one;
//! with it, a bare WIF key needs no context to be reported (a random string of its
//! shape passes a 32-bit checksum once in four billion).

use crate::rules::Checksum;

/// Whether `secret` passes the checksum of its format.
pub fn holds(kind: Checksum, secret: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(secret) else {
        return false;
    };
    match kind {
        Checksum::Base58Check => bs58::decode(text).with_check(None).into_vec().is_ok(),
        Checksum::StellarSeed => stellar_seed(text),
        Checksum::Bip39 => {
            bip39::Mnemonic::parse_in_normalized(bip39::Language::English, text).is_ok()
        }
    }
}

/// A Stellar secret seed (SEP-23 strkey): 56 base32 characters encoding the version
/// byte 18 << 3 (`S`), the 32-byte Ed25519 seed and a CRC16-XModem of those 33 bytes,
/// little-endian.
fn stellar_seed(text: &str) -> bool {
    const CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);
    let Ok(bytes) = data_encoding::BASE32_NOPAD.decode(text.as_bytes()) else {
        return false;
    };
    let [body @ .., lo, hi] = bytes.as_slice() else {
        return false;
    };
    body.len() == 33 && body[0] == 18 << 3 && CRC.checksum(body) == u16::from_le_bytes([*lo, *hi])
}

/// Whether a mnemonic repeats its words as the published test vectors do (BIP39's
/// `abandon abandon … about`, `legal winner thank year …` said three times, Hardhat's
/// `test test … junk`): a phrase with fewer distinct words than half its length was
/// written, not generated (a generated 12-word phrase repeats a word in 3% of phrases,
/// and never half of them).
pub fn repeats_words(phrase: &[u8]) -> bool {
    let words: Vec<&[u8]> = phrase
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let mut distinct = words.clone();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len() * 2 < words.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Keys made for these tests (random bytes, encoded with their format's checksum);
    // each is then broken in one character.
    const WIF: &str = "5K3zqfpxG1nAQydcE5BvPgRQU1ix5NmoFxgpHhAhKvokHLK7X8A";
    const XPRV: &str = "xprv9s21ZrQH143K2uVYAB3djztNGgACaNc3HDVgeZjt9YyAgQ19SS2F1hHVpEdeP6hBR35MWap2ZwuoScAj3XcHUuKz3fQ5ukBxJxa8SCT1Z4e";
    const STELLAR: &str = "SDCY3JD5AQ3KKZFYYEP4A55OVWNTUZPWCHPW3DJBDDVH7CX5YDZAQJQ2";
    const MNEMONIC: &str =
        "stadium render life noise diagram outer gossip glare inherit inquiry symbol add";

    fn broken(s: &str) -> String {
        let mut b = s.as_bytes().to_vec();
        let i = b.len() / 2;
        b[i] = if b[i] == b'a' { b'b' } else { b'a' };
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn base58check_accepts_a_wif_key_and_an_extended_key_and_rejects_one_changed_character() {
        for key in [WIF, XPRV] {
            assert!(holds(Checksum::Base58Check, key.as_bytes()), "{key}");
            assert!(
                !holds(Checksum::Base58Check, broken(key).as_bytes()),
                "{key}"
            );
        }
        assert!(!holds(Checksum::Base58Check, b"0OIl"));
    }

    #[test]
    fn stellar_seed_checks_version_byte_and_crc() {
        assert!(holds(Checksum::StellarSeed, STELLAR.as_bytes()));
        assert!(!holds(Checksum::StellarSeed, broken(STELLAR).as_bytes()));
        // Same shape, not base32 of a seed: a public key (`G…`) or random capitals.
        assert!(!holds(
            Checksum::StellarSeed,
            b"SAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        ));
    }

    #[test]
    fn bip39_checks_words_and_checksum() {
        assert!(holds(Checksum::Bip39, MNEMONIC.as_bytes()));
        // The last word carries the checksum: another word of the list breaks it.
        let wrong_last = MNEMONIC.replace(" add", " absent");
        assert!(!holds(Checksum::Bip39, wrong_last.as_bytes()));
        assert!(!holds(
            Checksum::Bip39,
            b"the quick brown fox jumps over the lazy dog and runs away now"
        ));
    }

    #[test]
    fn repeated_test_vector_phrases_are_told_from_generated_ones() {
        assert!(repeats_words(
            b"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
        ));
        // Repeating a third of its words is not enough: this test vector is a
        // stopword of the rule instead.
        assert!(!repeats_words(
            b"legal winner thank year wave sausage worth useful legal winner thank yellow"
        ));
        assert!(repeats_words(
            b"test test test test test test test test test test test junk"
        ));
        assert!(!repeats_words(MNEMONIC.as_bytes()));
    }
}
