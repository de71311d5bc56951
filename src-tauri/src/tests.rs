//! The commands and their permissions, on Tauri's mock runtime: no display needed.

use serde_json::{Value, json};
use tauri::{
    Listener, WebviewWindow, WebviewWindowBuilder,
    ipc::{CallbackFn, InvokeBody},
    test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder},
    webview::InvokeRequest,
};

use crate::{Options, builder};

fn app(options: Options) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = builder(mock_builder(), &options).build(tauri::generate_context!()).expect("app builds");
    // Labelled like the real one, so the real capability files apply to it.
    let window = WebviewWindowBuilder::new(&app, "main", Default::default()).build().expect("main window");
    (app, window)
}

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.into(),
    };
    get_ipc_response(window, request).map(|body| body.deserialize().unwrap())
}

#[test]
fn app_info_reports_the_version_and_the_mode() {
    let (_app, window) = app(Options { demo: true });
    let info = invoke(&window, "app_info", json!({})).unwrap();
    assert_eq!(info, json!({"version": env!("CARGO_PKG_VERSION"), "mode": "demo"}));

    let (_app, window) = app(Options::default());
    assert_eq!(invoke(&window, "app_info", json!({})).unwrap()["mode"], "standard");
}

#[test]
fn intents_move_the_session_and_each_new_step_is_broadcast() {
    let (app, window) = app(Options::default());
    let (tx, rx) = std::sync::mpsc::channel();
    app.listen_any(crate::ipc::STEP_CHANGED, move |event| tx.send(event.payload().to_owned()).unwrap());

    assert_eq!(invoke(&window, "current_step", json!({})).unwrap(), json!({"step": "welcome", "typed": "", "problem": null}));

    let bad = invoke(&window, "send_intent", json!({"intent": {"intent": "submitWorkAddress", "address": "ada"}})).unwrap();
    assert_eq!(bad, json!({"step": "welcome", "typed": "ada", "problem": {"kind": "missingAt"}}));

    let good = invoke(&window, "send_intent", json!({"intent": {"intent": "submitWorkAddress", "address": " Ada@Contoso.COM "}}));
    let expected = json!({"step": "readyToSignIn", "account": "Ada@contoso.com"});
    assert_eq!(good.unwrap(), expected);
    assert_eq!(invoke(&window, "current_step", json!({})).unwrap(), expected);

    let broadcast: Vec<Value> = rx.try_iter().map(|payload| serde_json::from_str(&payload).unwrap()).collect();
    assert_eq!(broadcast.len(), 2);
    assert_eq!(broadcast[1], expected);
}

#[test]
fn an_intent_that_does_not_fit_the_step_is_refused_with_a_typed_error() {
    let (_app, window) = app(Options::default());
    let refusal = invoke(&window, "send_intent", json!({"intent": {"intent": "changeWorkAddress"}})).unwrap_err();
    assert_eq!(refusal, json!({"kind": "notNow", "intent": "changeWorkAddress", "step": "welcome"}));
}

#[test]
fn malformed_intents_are_rejected_before_reaching_the_flow() {
    let (_app, window) = app(Options::default());
    assert!(invoke(&window, "send_intent", json!({"intent": {"intent": "formatTheKey"}})).is_err());
    assert!(invoke(&window, "send_intent", json!({})).is_err());
    assert_eq!(invoke(&window, "current_step", json!({})).unwrap()["step"], "welcome");
}

#[test]
fn only_what_the_capability_grants_is_callable() {
    let (_app, window) = app(Options::default());
    // Core features the wizard has no use for are not granted to its window.
    for (cmd, args) in [
        ("plugin:window|close", json!({"label": "main"})),
        ("plugin:webview|print", json!({"label": "main"})),
        ("plugin:app|version", json!({})),
    ] {
        let refusal = invoke(&window, cmd, args).expect_err(cmd);
        assert!(refusal.to_string().contains("not allowed"), "{cmd}: {refusal}");
    }
}

#[test]
fn the_apps_own_commands_are_refused_to_any_other_window() {
    let (app, _main) = app(Options::default());
    // E.g. the directory's sign-in page, which will run in a window of its own.
    let other = WebviewWindowBuilder::new(&app, "signin", Default::default()).build().unwrap();
    for cmd in ["app_info", "current_step", "send_intent"] {
        let refusal = invoke(&other, cmd, json!({})).expect_err(cmd);
        assert!(refusal.to_string().contains("not allowed"), "{cmd}: {refusal}");
    }
}
