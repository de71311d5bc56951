import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "./app";
import type { Intent, Step } from "./generated/ipc";
import { fakeBackend, standard, welcome } from "./testing";

afterEach(cleanup);

/** A backend that answers each intent with the given step (as an event, like the Rust
 * side), and records what was sent. */
function backend(answer: (intent: Intent) => Step) {
  return fakeBackend(answer);
}

describe("welcome", () => {
  it("labels the address field and sends what was typed as an intent", async () => {
    const ready: Step = { step: "readyToSignIn", account: "ada@contoso.com" };
    const b = backend(() => ready);
    render(<App info={standard} initial={welcome} backend={b} />);

    const input = screen.getByLabelText("Your work email address");
    fireEvent.input(input, { target: { value: "ada@contoso.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Continue" }));

    expect(b.sent).toEqual([{ intent: "submitWorkAddress", address: "ada@contoso.com" }]);
    await screen.findByRole("heading", { name: "Next, sign in" });
    expect(screen.getByText("ada@contoso.com").tagName).toBe("STRONG");
  });

  it("shows the problem the Rust side found, tied to the field for screen readers", () => {
    const step: Step = { step: "welcome", typed: "ada", problem: { kind: "missingAt" } };
    render(<App info={standard} initial={step} backend={backend(() => step)} />);

    const input = screen.getByLabelText("Your work email address") as HTMLInputElement;
    expect(input.value).toBe("ada");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const problem = document.getElementById("work-address-problem")!;
    expect(input.getAttribute("aria-describedby")).toContain(problem.id);
    expect(problem.getAttribute("aria-live")).toBe("assertive");
    expect(problem.textContent).toBe("Add the @ and your company's domain, like name@company.com.");
  });

  it("marks demo mode so nobody mistakes it for their real account", () => {
    render(<App info={{ ...standard, mode: "demo" }} initial={welcome} backend={backend(() => welcome)} />);
    expect(screen.getByRole("note").textContent).toBe("Demo: nothing here touches a real account");
  });
});

describe("any screen", () => {
  it("follows steps pushed by the Rust side and announces them", async () => {
    const b = backend(() => welcome);
    render(<App info={standard} initial={welcome} backend={b} />);
    await waitFor(() => b.push({ step: "readyToSignIn", account: "grace@contoso.com" }));

    await screen.findByRole("heading", { name: "Next, sign in" });
    const live = document.querySelector("[aria-live=polite]")!;
    expect(live.textContent).toBe("Next, sign in as grace@contoso.com.");
    expect(document.activeElement?.tagName).toBe("H1");
  });

  it("shows the real step again when an intent cannot be delivered", async () => {
    const b = backend(() => welcome);
    b.sendIntent = vi.fn(async () => Promise.reject(new Error("the app is closing")));
    render(<App info={standard} initial={{ step: "readyToSignIn", account: "ada@contoso.com" }} backend={b} />);

    fireEvent.click(screen.getByRole("button", { name: "Use a different address" }));
    await screen.findByRole("heading", { name: "Set up your security key" });
  });
});
