//! makeCredential and getAssertion on the virtual key, end to end through CTAPHID reports
//! and CTAP2 CBOR (touch granted at once), and the cryptography inside them, so that the
//! share of each ceremony spent in crypto can be read off.
//!
//! `cargo bench -p tap2key-keys --bench virtual_key`

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::Criterion;
use p256::{
    SecretKey,
    ecdsa::{DerSignature, SigningKey, signature::Signer},
    elliptic_curve::Generate,
};
use tap2key_keys::{CancelToken, GetAssertionRequest, Key, MakeCredentialRequest, Pin, client::CtapClient, virtual_key::VirtualTransport};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig, attestation::AttestationCa};

const RP: &str = "login.microsoft.com";

fn open_key() -> (VirtualKey, CtapClient<VirtualTransport>) {
    let key = VirtualKey::new(VirtualKeyConfig { max_credentials: 1_000_000, ..VirtualKeyConfig::default() }).unwrap();
    let client = tap2key_keys::virtual_key::open(key.plug_in()).unwrap();
    (key, client)
}

fn registration(n: u64, resident: bool) -> MakeCredentialRequest {
    MakeCredentialRequest {
        client_data_json: format!(r#"{{"type":"webauthn.create","challenge":"{n}"}}"#).into_bytes(),
        rp_id: RP.into(),
        rp_name: None,
        user_id: n.to_be_bytes().to_vec(),
        user_name: "bench@contoso.com".into(),
        user_display_name: "Bench".into(),
        exclude_list: Vec::new(),
        resident_key: resident,
        hmac_secret: false,
        cred_protect: None,
    }
}

fn sign_in(id: &[u8]) -> GetAssertionRequest {
    GetAssertionRequest { client_data_json: br#"{"type":"webauthn.get"}"#.to_vec(), rp_id: RP.into(), allow_list: vec![id.to_vec()] }
}

fn make_credential(client: &mut CtapClient<VirtualTransport>, n: u64, pin: Option<&Pin>) -> Vec<u8> {
    client.make_credential(&registration(n, false), pin, &mut |_| {}, &CancelToken::new()).unwrap().credential_id
}

fn ceremonies(c: &mut Criterion) {
    let mut group = c.benchmark_group("virtual key, end to end");
    let (_key, mut client) = open_key();
    let mut n = 0;
    group.bench_function("makeCredential", |b| {
        b.iter(|| {
            n += 1;
            make_credential(&mut client, n, None)
        })
    });
    let id = make_credential(&mut client, 0, None);
    group.bench_function("getAssertion", |b| b.iter(|| client.get_assertion(&sign_in(&id), None, &mut |_| {}, &CancelToken::new()).unwrap()));

    // With a PIN each ceremony also fetches a token: key agreement (ECDH on both sides).
    let (_key, mut client) = open_key();
    let pin = Pin::new("1234", 4).unwrap();
    client.set_pin(&pin).unwrap();
    group.bench_function("makeCredential with PIN", |b| {
        b.iter(|| {
            n += 1;
            make_credential(&mut client, n, Some(&pin))
        })
    });
    let id = make_credential(&mut client, 0, Some(&pin));
    group.bench_function("getAssertion with PIN", |b| {
        b.iter(|| client.get_assertion(&sign_in(&id), Some(&pin), &mut |_| {}, &CancelToken::new()).unwrap())
    });
    group.finish();
}

/// The cryptography a ceremony does on the key's side: makeCredential makes a key pair
/// (scalar and public point, for the COSE key) and signs the attestation; getAssertion
/// signs with the credential key.
fn key_pair() -> [u8; 32] {
    let private: [u8; 32] = SecretKey::generate().to_bytes().into();
    black_box(SigningKey::from_slice(&private).unwrap().verifying_key().to_sec1_point(false));
    private
}

fn credential_signature(private_key: &[u8; 32]) -> Vec<u8> {
    let key = SigningKey::from_slice(private_key).unwrap();
    let signature: DerSignature = key.sign(&[7u8; 69]);
    signature.as_bytes().to_vec()
}

fn crypto(c: &mut Criterion) {
    let attestation = AttestationCa::tap2key_test().issue([1; 16], "bench").unwrap();
    let private_key = key_pair();
    let mut group = c.benchmark_group("virtual key, crypto");
    group.bench_function("P-256 key pair", |b| b.iter(key_pair));
    group.bench_function("attestation signature", |b| b.iter(|| attestation.sign(black_box(&[7u8; 300]))));
    group.bench_function("assertion signature", |b| b.iter(|| credential_signature(black_box(&private_key))));
    group.finish();
}

/// Mean time of `f` over `runs` calls, after a short warm-up.
fn mean(runs: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..runs / 10 {
        f();
    }
    let started = Instant::now();
    for _ in 0..runs {
        f();
    }
    started.elapsed() / runs
}

/// The figure the issue asks for: how much of each ceremony is crypto on the key's side.
fn crypto_share() {
    const RUNS: u32 = 300;
    let (_key, mut client) = open_key();
    let mut n = 1_000_000;
    let make = mean(RUNS, || {
        n += 1;
        make_credential(&mut client, n, None);
    });
    let id = make_credential(&mut client, 0, None);
    let get = mean(RUNS, || drop(client.get_assertion(&sign_in(&id), None, &mut |_| {}, &CancelToken::new()).unwrap()));
    let attestation = AttestationCa::tap2key_test().issue([1; 16], "bench").unwrap();
    let private_key = key_pair();
    let make_crypto = mean(RUNS, || {
        black_box(key_pair());
        black_box(attestation.sign(&[7u8; 300]));
    });
    let get_crypto = mean(RUNS, || drop(black_box(credential_signature(&private_key))));
    let share = |crypto: Duration, total: Duration| 100.0 * crypto.as_secs_f64() / total.as_secs_f64();
    println!("\ncrypto share ({RUNS} runs each, no PIN, touch at once):");
    println!("  makeCredential {make:>10.1?} of which crypto {make_crypto:>9.1?} = {:>4.1}%", share(make_crypto, make));
    println!("  getAssertion   {get:>10.1?} of which crypto {get_crypto:>9.1?} = {:>4.1}%", share(get_crypto, get));
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    ceremonies(&mut criterion);
    crypto(&mut criterion);
    criterion.final_summary();
    crypto_share();
}
