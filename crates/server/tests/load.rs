//! A bounded load test, on loopback only: many complete onboarding ceremonies at once against
//! one directory (the real server on 127.0.0.1, a real SQLite file), then a check that
//! nothing was lost or duplicated.
//!
//! One ceremony, for one user with a one-time Temporary Access Pass and their own virtual key
//! (PIN set beforehand, touch answered at once): GET the authorize page, POST the pass,
//! redeem the code with the PKCE verifier, GET creationOptions, the key makes the credential,
//! POST the registration, test sign-in begin, the key's assertion, test sign-in finish.
//! One ceremony runs alone first, for reference (and to warm up); then [`USERS`] more run,
//! [`CONCURRENCY`] at a time. Afterwards every ceremony must have succeeded; each user must
//! have exactly one passkey, the one their key made; every pass must be spent; the audit
//! trail must hold exactly one successful sign-in, registration and test sign-in per user;
//! and no challenge or code may be left behind.
//!
//! It prints a report (wall time, throughput, ceremony and per-step latencies, each step
//! also as it took alone) and asserts nothing about time: the figures are reported, not
//! checked. In a debug build everything but argon2 is unoptimized (the key's P-256 work, JWT
//! signing, attestation checks), so its figures are pessimistic; for a fair number:
//!
//! ```text
//! cargo test --release -p tap2key-server --test load -- --nocapture
//! ```

mod common;

use std::{
    collections::HashMap,
    fmt::Write as _,
    net::{IpAddr, Ipv4Addr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{Browser, Directory, ME, ORIGIN, REDIRECT, b64, text, trust_the_virtual_key};
use reqwest::{RequestBuilder, header::LOCATION, redirect::Policy};
use serde_json::{Value, json};
use tap2key_server::{
    DESKTOP_CLIENT_ID,
    store::{AuditAction, User},
};
use tap2key_virtual_key::{TouchPolicy, VirtualKey, VirtualKeyConfig};
use tokio::{sync::Semaphore, task::JoinSet};
use tracing::{Event, Level, Subscriber, field::Field};
use tracing_subscriber::{
    filter::LevelFilter,
    layer::{Context, Layer, SubscriberExt},
    util::SubscriberInitExt,
};

/// Users, each doing one complete ceremony.
const USERS: usize = 128;
/// Ceremonies in flight at once.
const CONCURRENCY: usize = 16;
/// Users whose spent pass is tried once more, spread over the run.
const SAMPLE: usize = 4;

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn many_concurrent_ceremonies_lose_and_duplicate_nothing() {
    let problems = Problems::install();
    let setup_started = Instant::now();
    let directory = Directory::start_with("load", trust_the_virtual_key).await;
    assert_eq!(directory.server.addr().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST), "loopback only");
    // Its own client: no proxy however the environment is set up, so nothing leaves loopback.
    let http = reqwest::Client::builder().no_proxy().redirect(Policy::none()).build().unwrap();
    let run = Arc::new(Run { directory, http, in_flight: AtomicUsize::new(0), peak: AtomicUsize::new(0) });
    let (people, browsers) = people(&run).await;
    let setup = setup_started.elapsed();
    let setup_problems = problems.take();
    let mut browsers = browsers.into_iter();

    // The first user's ceremony alone: what each step costs without load.
    let first = &people[0];
    let alone = run.ceremony(&first.user, &first.pass, browsers.next().unwrap()).await;
    let alone = alone.unwrap_or_else(|error| panic!("{} (alone): {error}", first.user.upn));
    run.peak.store(0, Ordering::SeqCst);

    // Then everyone else's. Every ceremony is a task; a semaphore lets CONCURRENCY of them
    // run at a time.
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let started = Instant::now();
    let mut running = JoinSet::new();
    let mut task_users = HashMap::new();
    for ((index, person), browser) in people.iter().enumerate().skip(1).zip(browsers) {
        let (run, gate, user, pass) = (run.clone(), gate.clone(), person.user.clone(), person.pass.clone());
        let task = running.spawn(async move {
            let _permit = gate.acquire_owned().await.expect("the gate stays open");
            run.ceremony(&user, &pass, browser).await
        });
        task_users.insert(task.id(), index);
    }
    let mut done: Vec<Option<Done>> = (0..people.len()).map(|_| None).collect();
    let mut failures = Vec::new();
    while let Some(joined) = running.join_next_with_id().await {
        match joined {
            Ok((id, Ok(ceremony))) => done[task_users[&id]] = Some(ceremony),
            Ok((id, Err(error))) => failures.push(format!("{}: {error}", people[task_users[&id]].user.upn)),
            Err(error) => failures.push(format!("{}: {}", people[task_users[&error.id()]].user.upn, panic_text(error))),
        }
    }
    let wall = started.elapsed();
    let run_problems = problems.take();

    let under_load: Vec<&Done> = done.iter().flatten().collect();
    let peak = run.peak.load(Ordering::SeqCst);
    println!("{}", report(&alone, &under_load, setup, wall, peak, [&setup_problems, &run_problems]));
    let succeeded = under_load.len();
    done[0] = Some(alone);

    // Every ceremony succeeded.
    assert!(failures.is_empty(), "{} of {USERS} ceremonies failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(succeeded, USERS);
    let everyone = people.len();
    let errors: Vec<_> = setup_problems.iter().chain(&run_problems).filter(|p| p.starts_with("ERROR")).collect();
    assert!(errors.is_empty(), "the server logged errors under load:\n{errors:#?}");

    // Exactly one passkey per user, the one their key made and the directory answered with.
    let store = &run.directory.server.state.store;
    for (person, done) in people.iter().zip(&done) {
        let done = done.as_ref().expect("every ceremony succeeded");
        let upn = &person.user.upn;
        let passkeys = store.passkeys(person.user.id).await.unwrap();
        assert_eq!(passkeys.len(), 1, "{upn} has {} passkeys", passkeys.len());
        let passkey = &passkeys[0];
        assert_eq!(passkey.credential_id, done.credential_id, "{upn}: the credential the key made");
        assert_eq!(passkey.method_id.to_string(), done.method_id, "{upn}: the method the directory answered with");
        assert_eq!(u64::from(passkey.sign_count), done.sign_count, "{upn}: the counter the test sign-in stored");
        let on_key: Vec<_> = person.key.credentials().into_iter().map(|c| c.id).collect();
        assert_eq!(on_key, std::slice::from_ref(&done.credential_id), "{upn}: the key holds that one credential");
        let owner = store.passkey_by_credential_id(&done.credential_id).await.unwrap().expect("stored");
        assert_eq!(owner.user, person.user.id, "{upn}: the credential is theirs");
    }
    // ...and nothing else in the whole store: no stray passkey, no challenge or code left.
    let counts = Counts::read(&run.directory).await;
    assert_eq!(counts.passkeys, everyone, "passkeys in the store");
    assert_eq!(counts.credential_ids, everyone, "distinct credential ids in the store");
    assert_eq!(counts.users_with_passkeys, everyone, "users with a passkey");
    assert_eq!((counts.ceremonies, counts.codes), (0, 0), "ceremonies and codes left unspent");

    // The audit trail: exactly one successful sign-in, registration and test sign-in per
    // user, and nothing refused.
    let trail = store.audit_trail(None, 100_000).await.unwrap();
    for person in &people {
        let upn = &person.user.upn;
        let mine: Vec<_> = trail.iter().filter(|e| e.user == Some(person.user.id)).map(|e| (e.action.clone(), e.outcome.as_str())).collect();
        for action in [AuditAction::SignIn, AuditAction::Registration, AuditAction::TestSignIn] {
            let outcomes: Vec<_> = mine.iter().filter(|(a, _)| *a == action).map(|(_, o)| *o).collect();
            assert_eq!(outcomes, ["success"], "{upn}: {action:?}");
        }
    }
    let ceremony_events = trail.iter().filter(|e| matches!(e.action, AuditAction::SignIn | AuditAction::Registration | AuditAction::TestSignIn)).count();
    assert_eq!(ceremony_events, 3 * everyone, "no audit event for anyone else");

    // Every one-time pass is spent: the store says so for all, a second sign-in says so for
    // a sample.
    for person in &people {
        let tap = store.tap_of(person.user.id).await.unwrap().expect("a pass");
        assert!(tap.one_time && tap.used, "{}: {tap:?}", person.user.upn);
    }
    for index in (0..SAMPLE).map(|k| k * (everyone - 1) / (SAMPLE - 1)) {
        let person = &people[index];
        let (params, _) = run.directory.authorize_params(&person.user.upn);
        let reply = run.sign_in(&params, &person.user.upn, &person.pass).await.0.unwrap();
        let query = reply.redirect_query().unwrap();
        assert_eq!(param(&query, "error"), Some("access_denied"), "{}", person.user.upn);
        assert_eq!(param(&query, "error_subcode"), Some("tap_used"), "{}", person.user.upn);
        assert_eq!(param(&query, "code"), None);
    }
}

// ---------------------------------------------------------------------------------------
// The people and the run
// ---------------------------------------------------------------------------------------

struct Person {
    user: User,
    pass: String,
    /// The user's key, to look at afterwards (their browser holds it too).
    key: VirtualKey,
}

/// USERS + 1 users with a one-time pass each, and a browser each with its own key, PIN set;
/// made concurrently, CONCURRENCY passes at a time (each pass is an argon2 hash of 19 MiB
/// on the blocking pool: all at once, the setup alone swamps the machine).
async fn people(run: &Arc<Run>) -> (Vec<Person>, Vec<Browser>) {
    let count = USERS + 1;
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let mut users = JoinSet::new();
    for index in 0..count {
        let (run, gate) = (run.clone(), gate.clone());
        users.spawn(async move {
            let _permit = gate.acquire_owned().await.expect("the gate stays open");
            (index, run.directory.user_with_tap(&format!("user{index:03}@contoso.com"), true).await)
        });
    }
    let mut keys = JoinSet::new();
    for index in 0..count {
        keys.spawn_blocking(move || {
            let config = VirtualKeyConfig { touch: TouchPolicy::Immediately, ..VirtualKeyConfig::default() };
            (index, Browser::with_config(config))
        });
    }
    let mut made_users: Vec<Option<(User, String)>> = (0..count).map(|_| None).collect();
    while let Some(joined) = users.join_next().await {
        let (index, user) = joined.unwrap();
        made_users[index] = Some(user);
    }
    let mut made_browsers: Vec<Option<Browser>> = (0..count).map(|_| None).collect();
    while let Some(joined) = keys.join_next().await {
        let (index, browser) = joined.unwrap();
        made_browsers[index] = Some(browser);
    }
    made_users
        .into_iter()
        .zip(made_browsers)
        .map(|(user, browser)| {
            let ((user, pass), browser) = (user.unwrap(), browser.unwrap());
            assert!(browser.key.has_pin());
            (Person { user, pass, key: browser.key.clone() }, browser)
        })
        .unzip()
}

struct Run {
    directory: Directory,
    http: reqwest::Client,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

/// One ceremony that went through.
struct Done {
    wall: Duration,
    steps: [Duration; Step::COUNT],
    credential_id: Vec<u8>,
    method_id: String,
    sign_count: u64,
}

#[derive(Clone, Copy)]
enum Step {
    Page,
    SignIn,
    Token,
    Options,
    MakeCredential,
    Register,
    Begin,
    GetAssertion,
    Finish,
}

impl Step {
    const COUNT: usize = 9;
    const ALL: [Step; Step::COUNT] =
        [Step::Page, Step::SignIn, Step::Token, Step::Options, Step::MakeCredential, Step::Register, Step::Begin, Step::GetAssertion, Step::Finish];

    fn label(self) -> &'static str {
        match self {
            Step::Page => "authorize page (GET)",
            Step::SignIn => "sign-in (POST the TAP)",
            Step::Token => "token (code + verifier)",
            Step::Options => "creationOptions (GET)",
            Step::MakeCredential => "key: makeCredential",
            Step::Register => "register (POST)",
            Step::Begin => "test sign-in begin",
            Step::GetAssertion => "key: getAssertion",
            Step::Finish => "test sign-in finish",
        }
    }
}

/// Each step's time, as it is taken.
#[derive(Default)]
struct Stopwatch([Duration; Step::COUNT]);

impl Stopwatch {
    async fn time<T>(&mut self, step: Step, work: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let output = work.await;
        self.0[step as usize] = started.elapsed();
        output
    }
}

type Outcome<T> = Result<T, String>;

fn ensure(condition: bool, what: impl FnOnce() -> String) -> Outcome<()> {
    if condition { Ok(()) } else { Err(what()) }
}

impl Run {
    async fn ceremony(&self, user: &User, pass: &str, browser: Browser) -> Outcome<Done> {
        /// Counts a ceremony out again however it ends, a panic included.
        struct InFlight<'a>(&'a AtomicUsize);
        impl Drop for InFlight<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let _in_flight = InFlight(&self.in_flight);
        self.peak.fetch_max(now, Ordering::SeqCst);
        self.steps(user, pass, browser, Instant::now()).await
    }

    async fn steps(&self, user: &User, pass: &str, browser: Browser, started: Instant) -> Outcome<Done> {
        let mut watch = Stopwatch::default();
        let upn = user.upn.as_str();

        // Sign in with the pass: the page, the form, the code for a token.
        let (params, verifier) = self.directory.authorize_params(upn);
        let authorize = self.directory.url("/oauth2/v2.0/authorize");
        let page = watch.time(Step::Page, send(self.http.get(&authorize).query(&params))).await?.status(200, "authorize page")?;
        ensure(page.body.contains(&format!(r#"value="{upn}""#)), || "the authorize page does not name the user".into())?;
        let (signed_in, elapsed) = self.sign_in(&params, upn, pass).await;
        watch.0[Step::SignIn as usize] = elapsed;
        let query = signed_in?.redirect_query()?;
        ensure(param(&query, "state") == Some("s-123"), || format!("sign-in: state {:?}", param(&query, "state")))?;
        let code = param(&query, "code").ok_or_else(|| format!("sign-in refused: {query:?}"))?;
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", DESKTOP_CLIENT_ID),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ];
        let token = watch.time(Step::Token, send(self.http.post(self.directory.url("/oauth2/v2.0/token")).form(&form))).await?.status(200, "token")?.json()?;
        let access = token["access_token"].as_str().ok_or("token: no access_token")?.to_owned();

        // Register the key through Graph.
        let graph = format!("{}/v1.0{ME}", self.directory.server.base_url());
        let options = watch.time(Step::Options, send(self.http.get(format!("{graph}/creationOptions")).bearer_auth(&access))).await?.status(200, "creationOptions")?.json()?;
        let (browser, made) = watch.time(Step::MakeCredential, on_key(browser, move |b| b.create(&options, ORIGIN))).await?;
        let body = made.map_err(|e| format!("the key's makeCredential: {e}"))?;
        let credential_id = b64(&body["publicKeyCredential"]["id"]);
        let method = watch.time(Step::Register, send(self.http.post(&graph).bearer_auth(&access).json(&body))).await?.status(201, "register")?.json()?;
        let method_id = text(&method["id"]);

        // Test sign-in with it.
        let method_url = format!("{graph}/{method_id}/testSignIn");
        let begin = watch.time(Step::Begin, send(self.http.post(format!("{method_url}/begin")).bearer_auth(&access).json(&json!({})))).await?.status(200, "test sign-in begin")?.json()?;
        let (_, assertion) = watch.time(Step::GetAssertion, on_key(browser, move |b| b.get(&begin, ORIGIN, |id| URL_SAFE_NO_PAD.encode(id)))).await?;
        let verified = watch.time(Step::Finish, send(self.http.post(format!("{method_url}/finish")).bearer_auth(&access).json(&assertion))).await?.status(200, "test sign-in finish")?.json()?;
        ensure(verified["verified"] == true, || format!("test sign-in finish: {verified}"))?;
        let sign_count = verified["signCount"].as_u64().ok_or("test sign-in finish: no signCount")?;

        Ok(Done { wall: started.elapsed(), steps: watch.0, credential_id, method_id, sign_count })
    }

    /// POSTs the sign-in form as a person would after the page loaded; the reply and how long
    /// it took.
    async fn sign_in(&self, params: &[(&'static str, String)], upn: &str, pass: &str) -> (Outcome<Reply>, Duration) {
        let mut form = params.to_vec();
        form.push(("username", upn.to_owned()));
        form.push(("pass", pass.to_owned()));
        let started = Instant::now();
        let reply = send(self.http.post(self.directory.url("/oauth2/v2.0/authorize")).form(&form)).await;
        (reply, started.elapsed())
    }
}

/// The key's work, which blocks, off the async threads; the browser comes back with it.
async fn on_key<T: Send + 'static>(mut browser: Browser, work: impl FnOnce(&mut Browser) -> T + Send + 'static) -> Outcome<(Browser, T)> {
    tokio::task::spawn_blocking(move || {
        let output = work(&mut browser);
        (browser, output)
    })
    .await
    .map_err(|e| format!("the key: {}", panic_text(e)))
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

/// A reply, read to the end.
struct Reply {
    what: &'static str,
    status: u16,
    location: Option<String>,
    body: String,
}

async fn send(request: RequestBuilder) -> Outcome<Reply> {
    let response = request.send().await.map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    let location = response.headers().get(LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned);
    let body = response.text().await.map_err(|e| format!("reading the reply failed: {e}"))?;
    Ok(Reply { what: "", status, location, body })
}

impl Reply {
    fn status(mut self, expected: u16, what: &'static str) -> Outcome<Self> {
        self.what = what;
        ensure(self.status == expected, || format!("{what}: {} instead of {expected}: {}", self.status, self.excerpt()))?;
        Ok(self)
    }

    fn json(self) -> Outcome<Value> {
        serde_json::from_str(&self.body).map_err(|e| format!("{}: not JSON ({e}): {}", self.what, self.excerpt()))
    }

    fn excerpt(&self) -> &str {
        let end = (0..=self.body.len().min(400)).rev().find(|&i| self.body.is_char_boundary(i)).unwrap_or(0);
        &self.body[..end]
    }

    /// The query parameters of a redirect to the desktop app.
    fn redirect_query(self) -> Outcome<Vec<(String, String)>> {
        let reply = self.status(302, "sign-in")?;
        let location = reply.location.ok_or("sign-in: a redirect without a Location")?;
        ensure(location.starts_with(REDIRECT), || format!("sign-in: redirected to {location}"))?;
        let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
        Ok(url::form_urlencoded::parse(query.as_bytes()).into_owned().collect())
    }
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn panic_text(error: tokio::task::JoinError) -> String {
    if !error.is_panic() {
        return error.to_string();
    }
    let payload = error.into_panic();
    let message = payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned());
    format!("panicked: {}", message.unwrap_or_else(|| "(no message)".into()))
}

// ---------------------------------------------------------------------------------------
// The store as a whole
// ---------------------------------------------------------------------------------------

/// Counts over the whole database, which the store's API (per user, per credential) has no
/// call for; read on a separate read-only connection.
struct Counts {
    passkeys: usize,
    credential_ids: usize,
    users_with_passkeys: usize,
    ceremonies: usize,
    codes: usize,
}

impl Counts {
    async fn read(directory: &Directory) -> Self {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&directory.server.state.config.database).read_only(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        let mut numbers = Vec::new();
        for query in [
            "SELECT count(*) FROM passkeys",
            "SELECT count(DISTINCT credential_id) FROM passkeys",
            "SELECT count(DISTINCT user_id) FROM passkeys",
            "SELECT count(*) FROM ceremonies",
            "SELECT count(*) FROM authorization_codes",
        ] {
            let count: i64 = sqlx::query_scalar(query).fetch_one(&pool).await.unwrap();
            numbers.push(usize::try_from(count).unwrap());
        }
        pool.close().await;
        let [passkeys, credential_ids, users_with_passkeys, ceremonies, codes] = numbers[..] else { unreachable!() };
        Self { passkeys, credential_ids, users_with_passkeys, ceremonies, codes }
    }
}

// ---------------------------------------------------------------------------------------
// What the server logged
// ---------------------------------------------------------------------------------------

/// Warnings and errors the server (and sqlx, hyper, ...) logged, e.g. "database is locked"
/// or slow statements.
#[derive(Clone, Default)]
struct Problems(Arc<Mutex<Vec<String>>>);

impl Problems {
    fn install() -> Self {
        let problems = Self::default();
        tracing_subscriber::registry().with(LevelFilter::WARN).with(problems.clone()).try_init().expect("the only subscriber");
        problems
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl<S: Subscriber> Layer<S> for Problems {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        let mut line = format!("{} {}:", metadata.level(), metadata.target());
        event.record(&mut |field: &Field, value: &dyn std::fmt::Debug| {
            let _ = write!(line, " {}={value:?}", field.name());
        });
        if *metadata.level() <= Level::WARN {
            self.0.lock().unwrap().push(line);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------

fn report(alone: &Done, done: &[&Done], setup: Duration, wall: Duration, peak: usize, [setup_problems, run_problems]: [&[String]; 2]) -> String {
    let build = if cfg!(debug_assertions) { "debug build: unoptimized except argon2" } else { "release build" };
    let mut out = String::new();
    let _ = writeln!(out, "\nload test ({build}; figures are reported, not asserted)");
    let _ = writeln!(out, "  users {USERS}, concurrency {CONCURRENCY} (peak in flight {peak}), succeeded {}", done.len());
    let _ = writeln!(out, "  setup ({} users, one-time passes, keys with PINs): {:.2} s", USERS + 1, setup.as_secs_f64());
    let _ = writeln!(out, "  total wall time {:.2} s, throughput {:.2} ceremonies/s", wall.as_secs_f64(), done.len() as f64 / wall.as_secs_f64());
    let walls: Vec<_> = done.iter().map(|d| d.wall).collect();
    let _ = writeln!(
        out,
        "  ceremony latency: p50 {}  p90 {}  p99 {}  max {}  (one ceremony alone, before: {})",
        ms(percentile(&walls, 50)),
        ms(percentile(&walls, 90)),
        ms(percentile(&walls, 99)),
        ms(percentile(&walls, 100)),
        ms(alone.wall)
    );
    let _ = writeln!(out, "  {:<26} {:>10} {:>10} {:>10}", "step", "p50", "p99", "alone");
    for step in Step::ALL {
        let times: Vec<_> = done.iter().map(|d| d.steps[step as usize]).collect();
        let (p50, p99, solo) = (percentile(&times, 50), percentile(&times, 99), alone.steps[step as usize]);
        let _ = writeln!(out, "  {:<26} {:>10} {:>10} {:>10}", step.label(), ms(p50), ms(p99), ms(solo));
    }
    let _ = write!(out, "  warnings/errors logged: {} during setup, {} during the run", setup_problems.len(), run_problems.len());
    // The first of each kind (the message without its figures).
    let mut kinds = Vec::new();
    for problem in setup_problems.iter().chain(run_problems) {
        let kind: String = problem.chars().filter(|c| !c.is_ascii_digit()).collect();
        if !kinds.contains(&kind) && kinds.len() < 5 {
            let _ = write!(out, "\n    {problem}");
            kinds.push(kind);
        }
    }
    out
}

/// Nearest-rank percentile; zero for no samples.
fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or_default()
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
