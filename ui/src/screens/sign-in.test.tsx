import { cleanup, fireEvent, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import { demo, renderStep, standard } from "../testing";

afterEach(cleanup);

describe("welcome in demo mode", () => {
  const welcome = { step: "welcome", typed: "", problem: null } as const;

  it("shows what IT would hand over: the account and its pass, large and selectable", () => {
    renderStep(welcome, demo);
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Set up your security key");
    const card = screen.getByRole("region", { name: "Handed over by IT" });
    expect(card.textContent).toContain("In real life IT gives you these.");
    expect(card.querySelector(".demo-account")!.textContent).toBe("ada@demo.tap2key.test");
    expect(card.querySelector(".demo-pass")!.textContent).toBe("Kx7!pQ2#mW9z");
  });

  it("fills the address field with the demo account", () => {
    const { backend } = renderStep(welcome, demo);
    fireEvent.click(screen.getByRole("button", { name: "Use this account" }));
    const input = screen.getByLabelText("Your work email address") as HTMLInputElement;
    expect(input.value).toBe("ada@demo.tap2key.test");
    expect(document.activeElement).toBe(input);
    fireEvent.submit(input.form!);
    expect(backend.sent).toEqual([{ intent: "submitWorkAddress", address: "ada@demo.tap2key.test" }]);
  });

  it("shows no pass outside demo mode", () => {
    renderStep(welcome, standard);
    expect(screen.queryByRole("region", { name: "Handed over by IT" })).toBeNull();
    expect(document.body.textContent).not.toContain("Kx7!pQ2#mW9z");
    expect(screen.queryByRole("button", { name: "Use this account" })).toBeNull();
  });
});

describe("ready to sign in", () => {
  it("signs in, or goes back to change the address", () => {
    const { backend } = renderStep({ step: "readyToSignIn", account: "ada@contoso.com" });
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Next, sign in");
    expect(screen.queryByText(/not available/)).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    fireEvent.click(screen.getByRole("button", { name: "Use a different address" }));
    expect(backend.sent).toEqual([{ intent: "signIn" }, { intent: "changeWorkAddress" }]);
  });
});

describe("signing in", () => {
  it("points to the other window, says the pass stays there, and waits for the page", () => {
    renderStep({ step: "signingIn", account: "ada@contoso.com", url: null });
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Sign in in the window that opened");
    expect(screen.getByText("ada@contoso.com").tagName).toBe("STRONG");
    expect(screen.getByText("Type your Temporary Access Pass there. tap2key never sees it.")).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("Opening the sign-in page…");
  });

  it("names where the page comes from once it is open", () => {
    renderStep({ step: "signingIn", account: "ada@contoso.com", url: "https://login.example.com/t/authorize?x=1" });
    expect(screen.queryByRole("status")).toBeNull();
    expect(document.querySelector(".site")!.textContent).toBe("login.example.com");
  });

  it("cancels", () => {
    const { backend } = renderStep({ step: "signingIn", account: "ada@contoso.com", url: null });
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(backend.sent).toEqual([{ intent: "cancel" }]);
  });
});
