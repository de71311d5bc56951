//! The flow's own time for the whole job, split by step: a blank virtual key (touch granted
//! at once) and the demo directory in-process on loopback over a real SQLite file, with a
//! new user and a new Temporary Access Pass for every iteration.
//!
//! One iteration is what a person sees from the welcome screen to "done": the work address,
//! the sign-in page with the pass typed on it (`type_tap`, what the person's browser does,
//! so `signingIn` includes the directory's Argon2 check of the pass), finding and reading
//! the key, setting its PIN, making the passkey, registering it, and the verified test
//! sign-in. The person's answers are sent the moment each step asks; making the user and
//! the pass (IT's part) and closing the session afterwards are outside the timing.
//!
//! After criterion's figures it prints a table: for each step, the median over all the
//! iterations run (warm-up included) of the time from entering that step to entering the
//! next, read from `Onboarding::history()`; for `signingIn` also the browser's part of it
//! (`type_tap`: the page, the pass, the redirect), the rest being the flow's own (the
//! discovery document before the page, redeeming the code, checking the id token).
//!
//! `cargo bench -p tap2key-flow --bench onboarding`

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use tap2key_directory::{DirectoryConfig, testing::type_tap};
use tap2key_flow::{Intent, Milestone, Onboarding, OnboardingConfig, PinPolicy, SignInMode, Step};
use tap2key_keys::KeyPorts;
use tap2key_server::{Clock, Server, ServerConfig, graph::AttestationPolicy};
use tap2key_virtual_key::{TouchPolicy, VirtualKey, VirtualKeyConfig};
use time::OffsetDateTime;

/// No step waits this long unless something is broken.
const PATIENCE: Duration = Duration::from_secs(30);
const PIN: &str = "480257";

struct Directory {
    server: Server,
    db: PathBuf,
    http: reqwest::Client,
    next_user: AtomicU64,
}

impl Directory {
    async fn start() -> Self {
        let db = std::env::temp_dir().join(format!("tap2key-bench-onboarding-{}.sqlite3", std::process::id()));
        let mut config = ServerConfig::demo(db.clone());
        let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
        let model = key.model();
        config.attestation = AttestationPolicy::trust(key.attestation_root_der(), uuid::Uuid::from_bytes(model.aaguid), &model.name);
        // The system clock: the directory client checks the id token's expiry against it.
        let server = Server::start(config, Clock::System).await.unwrap();
        Self { server, db, http: reqwest::Client::new(), next_user: AtomicU64::new(0) }
    }

    /// IT's part: a new user with a pass for one sign-in.
    async fn new_user(&self) -> (String, String) {
        let upn = format!("user{}@contoso.com", self.next_user.fetch_add(1, Ordering::Relaxed));
        let store = &self.server.state.store;
        let now = OffsetDateTime::now_utc();
        let user = store.create_user(&upn, "Bench User", now).await.unwrap();
        let tap = store.issue_tap(user.id, now, time::Duration::hours(1), true, now).await.unwrap();
        (upn, tap.pass.to_string())
    }
}

impl Directory {
    /// The directory's Argon2id check of a typed pass on its own (a wrong pass, so nothing
    /// is spent): the bulk of `signingIn`.
    async fn pass_check(&self) -> Duration {
        let store = &self.server.state.store;
        let now = OffsetDateTime::now_utc();
        let user = store.create_user("pass-check@contoso.com", "Bench User", now).await.unwrap();
        store.issue_tap(user.id, now, time::Duration::hours(1), false, now).await.unwrap();
        let mut times = Vec::new();
        for _ in 0..10 {
            let started = Instant::now();
            std::hint::black_box(store.check_tap(user.id, "not-the-pass", now).await.unwrap());
            times.push(started.elapsed());
        }
        median(times)
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn reach(flow: &Onboarding, name: &str) -> Step {
    match flow.wait_for(PATIENCE, |step| step.name() == name || step.name() == "failed").await {
        Ok(step) if step.name() == name => step,
        Ok(step) | Err(step) => panic!("expected {name}, the flow is at {step:?}"),
    }
}

/// One whole job, timed.
struct Job {
    elapsed: Duration,
    /// The browser's part of `signingIn`: loading the page, sending the pass, following the
    /// redirect back to the flow's loopback listener.
    browser: Duration,
    /// `Onboarding::start` itself, which runs inside the first step.
    start: Duration,
    history: Vec<Milestone>,
}

async fn one_job(directory: &Directory) -> Job {
    let (upn, tap) = directory.new_user().await;
    let ports = KeyPorts::new(false);
    let key = VirtualKey::new(VirtualKeyConfig { touch: TouchPolicy::Immediately, ..VirtualKeyConfig::default() }).unwrap();
    ports.plug_in(key.plug_in());

    let started = Instant::now();
    let flow = Onboarding::start(OnboardingConfig {
        directory: DirectoryConfig::demo(directory.server.base_url()),
        sign_in: SignInMode::Browser,
        for_user: None,
        ports,
        pin_policy: PinPolicy::default(),
        // What tap2key-enroll uses; the key is already plugged in, so no step waits for it.
        watch_interval: Duration::from_millis(250),
    });
    let start = started.elapsed();
    flow.send(Intent::SubmitWorkAddress { address: upn.clone() });
    reach(&flow, "readyToSignIn").await;
    flow.send(Intent::SignIn);
    let url = match flow.wait_for(PATIENCE, |step| matches!(step, Step::SigningIn { url: Some(_), .. })).await {
        Ok(Step::SigningIn { url: Some(url), .. }) => url,
        other => panic!("no sign-in page: {other:?}"),
    };
    let browser = Instant::now();
    type_tap(&directory.http, &url.parse().unwrap(), &upn, &tap).await.expect("the sign-in page takes the pass");
    let browser = browser.elapsed();
    reach(&flow, "keyFound").await;
    flow.send(Intent::UseKey);
    reach(&flow, "choosePin").await;
    flow.send(Intent::ChoosePin { pin: PIN.into(), again: PIN.into() });
    let Step::NamingKey { suggested, .. } = reach(&flow, "namingKey").await else { unreachable!() };
    flow.send(Intent::NameKey { name: suggested });
    reach(&flow, "done").await;
    let elapsed = started.elapsed();

    let history = flow.history();
    flow.close().await;
    drop(key);
    Job { elapsed, browser, start, history }
}

/// Time from entering each step to entering the next, summed by step (a step can be
/// entered twice in a row, e.g. "creatingPasskey" once more when the key asks for a touch).
fn time_per_step(history: &[Milestone]) -> Vec<(&'static str, Duration)> {
    let mut per_step: Vec<(&'static str, Duration)> = Vec::new();
    for pair in history.windows(2) {
        let spent = pair[1].at.duration_since(pair[0].at);
        match per_step.iter_mut().find(|(step, _)| *step == pair[0].step) {
            Some((_, total)) => *total += spent,
            None => per_step.push((pair[0].step, spent)),
        }
    }
    per_step
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    match values.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2,
    }
}

fn print_table(jobs: &[Job], pass_check: Duration) {
    let mut order: Vec<&'static str> = Vec::new();
    let mut spent: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for job in jobs {
        for (step, time) in time_per_step(&job.history) {
            if !order.contains(&step) {
                order.push(step);
            }
            spent.entry(step).or_default().push(time);
        }
    }
    let whole = median(jobs.iter().map(|job| job.elapsed).collect());
    let share = |time: Duration| 100.0 * time.as_secs_f64() / whole.as_secs_f64();
    println!("\nthe whole job, split by step: median over {} jobs (blank virtual key, touch at once, demo directory in-process)", jobs.len());
    println!("  {:<22} {:>10} {:>7}", "step", "median", "share");
    let mut sum = Duration::ZERO;
    for step in order {
        let median = median(spent.remove(step).unwrap_or_default());
        sum += median;
        println!("  {step:<22} {median:>10.2?} {:>6.1}%", share(median));
        if step == "welcome" {
            let start = self::median(jobs.iter().map(|job| job.start).collect());
            println!("    {:<20} {start:>10.2?} {:>6.1}%  (Onboarding::start: HTTP client, key watch, driver task)", "starting", share(start));
        }
        if step == "signingIn" {
            // The flow answers the browser's redirect only once it has redeemed the code and
            // checked the id token, so that work is inside the browser's time too.
            let browser = self::median(jobs.iter().map(|job| job.browser).collect());
            println!("    {:<20} {browser:>10.2?} {:>6.1}%  (type_tap: page, pass, redirect, code redeemed)", "the browser's part", share(browser));
            println!("    {:<20} {pass_check:>10.2?} {:>6.1}%  (the directory's Argon2id check of the pass, measured apart)", "the pass check", share(pass_check));
        }
    }
    let signed_in_to_done = self::median(jobs.iter().filter_map(|job| between(&job.history, "findingKey", "done")).collect());
    println!("  {:<22} {:>10.2?}", "(sum of the medians)", sum);
    println!("  {:<22} {:>10.2?}", "whole job (median)", whole);
    println!("  {:<22} {:>10.2?}  (findingKey to done: the job after the sign-in, as with an access token)", "signed in to done", signed_in_to_done);
}

/// Time from first entering `from` to first entering `to`.
fn between(history: &[Milestone], from: &str, to: &str) -> Option<Duration> {
    let at = |name: &str| history.iter().find(|m| m.step == name).map(|m| m.at);
    Some(at(to)?.duration_since(at(from)?))
}

fn onboarding(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let directory = Arc::new(runtime.block_on(Directory::start()));
    let jobs: Arc<Mutex<Vec<Job>>> = Arc::default();

    let mut group = c.benchmark_group("onboarding");
    // Each job takes tens of milliseconds: a fixed number per sample keeps the run short.
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("whole job, blank virtual key, demo directory", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let (directory, jobs) = (directory.clone(), jobs.clone());
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let job = one_job(&directory).await;
                    total += job.elapsed;
                    jobs.lock().unwrap().push(job);
                }
                total
            }
        })
    });
    group.finish();
    let pass_check = runtime.block_on(directory.pass_check());
    print_table(&jobs.lock().unwrap(), pass_check);
    drop(directory);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(10));
    targets = onboarding
}
criterion_main!(benches);
