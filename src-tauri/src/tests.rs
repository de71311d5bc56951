//! The commands and their permissions, on Tauri's mock runtime: no display needed.

use serde_json::{Value, json};
use tauri::{
    Listener, WebviewWindow, WebviewWindowBuilder,
    ipc::{CallbackFn, InvokeBody},
    test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder},
    webview::InvokeRequest,
};

use std::{sync::mpsc, time::Duration};

use tap2key_directory::DirectoryConfig;
use tap2key_keys::KeyPorts;
use tap2key_settings::Settings;

use crate::{Launch, builder, ipc::Mode};

/// An app whose directory is nowhere (nothing here gets as far as signing in).
fn app() -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let launch = Launch::new(Mode::Standard, DirectoryConfig::demo("http://127.0.0.1:9"), KeyPorts::new(false), Settings::default(), None);
    let app = builder(mock_builder(), launch).build(tauri::generate_context!()).expect("app builds");
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

fn next_step(steps: &mpsc::Receiver<String>) -> Value {
    let payload = steps.recv_timeout(Duration::from_secs(10)).expect("a step-changed event");
    serde_json::from_str(&payload).unwrap()
}

#[test]
fn app_info_reports_the_version_mode_demo_and_kiosk() {
    let (_app, window) = app();
    let info = invoke(&window, "app_info", json!({})).unwrap();
    assert_eq!(info, json!({"version": env!("CARGO_PKG_VERSION"), "mode": "standard", "demo": null, "kiosk": false}));
}

#[test]
fn intents_reach_the_flow_and_each_new_step_is_broadcast() {
    let (app, window) = app();
    let (tx, steps) = mpsc::channel();
    app.listen_any(crate::ipc::STEP_CHANGED, move |event| tx.send(event.payload().to_owned()).unwrap());

    assert_eq!(invoke(&window, "current_step", json!({})).unwrap(), json!({"step": "welcome", "typed": "", "problem": null}));

    invoke(&window, "send_intent", json!({"intent": {"intent": "submitWorkAddress", "address": "ada"}})).unwrap();
    assert_eq!(next_step(&steps), json!({"step": "welcome", "typed": "ada", "problem": {"kind": "missingAt"}}));

    invoke(&window, "send_intent", json!({"intent": {"intent": "submitWorkAddress", "address": " Ada@Contoso.COM "}})).unwrap();
    let expected = json!({"step": "readyToSignIn", "account": "Ada@contoso.com"});
    assert_eq!(next_step(&steps), expected);
    assert_eq!(invoke(&window, "current_step", json!({})).unwrap(), expected);

    // An intent that does not fit the step changes nothing.
    invoke(&window, "send_intent", json!({"intent": {"intent": "useKey"}})).unwrap();
    invoke(&window, "send_intent", json!({"intent": {"intent": "changeWorkAddress"}})).unwrap();
    assert_eq!(next_step(&steps), json!({"step": "welcome", "typed": "Ada@contoso.com", "problem": null}));
}

#[test]
fn the_demo_touch_is_refused_without_a_virtual_key() {
    let (_app, window) = app();
    assert_eq!(invoke(&window, "touch_virtual_key", json!({})).unwrap_err(), json!({"kind": "noVirtualKey"}));
    assert_eq!(invoke(&window, "still_here", json!({})).unwrap(), Value::Null);
}

#[test]
fn malformed_intents_are_rejected_before_reaching_the_flow() {
    let (_app, window) = app();
    assert!(invoke(&window, "send_intent", json!({"intent": {"intent": "formatTheKey"}})).is_err());
    assert!(invoke(&window, "send_intent", json!({})).is_err());
    assert_eq!(invoke(&window, "current_step", json!({})).unwrap()["step"], "welcome");
}

#[test]
fn only_what_the_capability_grants_is_callable() {
    let (_app, window) = app();
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
    let (app, _main) = app();
    // E.g. the directory's sign-in page, which will run in a window of its own.
    let other = WebviewWindowBuilder::new(&app, "signin", Default::default()).build().unwrap();
    for cmd in ["app_info", "current_step", "send_intent", "touch_virtual_key", "still_here"] {
        let refusal = invoke(&other, cmd, json!({})).expect_err(cmd);
        assert!(refusal.to_string().contains("not allowed"), "{cmd}: {refusal}");
    }
}
