//! What broker mode costs per key, measured end to end over loopback: the app's directory
//! client → the broker (Entra token check, attestation verified with webauthn-rs, SQLite)
//! → the Entra/Graph stand-in (which verifies the registration again, as Graph would).
//!
//! - `options`: `GET creationOptions` (token check, one Graph call, the challenge saved);
//! - `register`: options, the virtual key's makeCredential (PIN token included), `POST`
//!   (verification here, Graph's POST, Graph's list to confirm), then `DELETE` to keep the
//!   key's slots free (so this is one enrolment and one removal);
//! - `test sign-in`: begin, getAssertion on the key, finish (verified here, no Graph call).
//!
//! The stand-in runs in the same process and verifies what Graph would, so these figures
//! are the broker's own time plus a Graph that answers at once; real Graph adds its own
//! latency (tens to hundreds of ms per call) on top of each of the Graph calls named above.
//!
//! `cargo bench -p tap2key-server --bench broker`

#[path = "../tests/broker/setup.rs"]
mod setup;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use setup::{Entra, SecurityKey};

fn broker(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (entra, graph) = runtime.block_on(async {
        let entra = Entra::start("bench").await;
        let (_, graph) = entra.ada().await;
        (entra, graph)
    });
    let mut key = SecurityKey::new();

    let mut group = c.benchmark_group("broker");
    group.sample_size(30).measurement_time(Duration::from_secs(10));
    group.bench_function("options", |b| b.iter(|| runtime.block_on(graph.creation_options()).unwrap()));
    group.bench_function("register", |b| {
        b.iter(|| {
            let options = runtime.block_on(graph.creation_options()).unwrap();
            let made = key.make_credential(&options).unwrap();
            let method = runtime.block_on(graph.register("Bench key", &options, &made)).unwrap();
            runtime.block_on(graph.delete(&method.id)).unwrap();
        })
    });
    let options = runtime.block_on(graph.creation_options()).unwrap();
    let made = key.make_credential(&options).unwrap();
    let method = runtime.block_on(graph.register("Bench key", &options, &made)).unwrap();
    group.bench_function("test sign-in", |b| {
        b.iter(|| {
            let test = runtime.block_on(graph.begin_test_sign_in(&method.id)).unwrap();
            let assertion = key.get_assertion(&test);
            assert!(runtime.block_on(graph.finish_test_sign_in(&method.id, &test, &assertion)).unwrap().verified);
        })
    });
    group.finish();
    drop(entra);
}

criterion_group!(benches, broker);
criterion_main!(benches);
