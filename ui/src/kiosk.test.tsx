import { act, cleanup, fireEvent, screen } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { STILL_HERE_EVERY_MS } from "./app";
import { fakeBackend, kiosk, renderStep, standard } from "./testing";

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const step = { step: "keyFound", key: { model: "Key", aaguid: "", pin: { state: "notSet" }, minPinLength: 4, freePasskeySlots: null } } as const;

describe("the kiosk's idle warning", () => {
  it("appears over the screen, counts down as told, and answers \"I'm still here\"", async () => {
    const backend = fakeBackend();
    renderStep(step, kiosk, backend);
    await act(async () => {}); // the listeners are in place
    expect(screen.queryByRole("alertdialog")).toBeNull();

    act(() => backend.warn({ secondsLeft: 30 }));
    const dialog = screen.getByRole("alertdialog", { name: "Are you still there?" });
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.getElementById(dialog.getAttribute("aria-describedby")!)!.textContent).toBe(
      "tap2key will start over for the next person in 30 seconds.",
    );
    const button = screen.getByRole("button", { name: "I'm still here" });
    expect(document.activeElement).toBe(button);
    expect(document.querySelector(".frame")!.hasAttribute("inert")).toBe(true);

    act(() => backend.warn({ secondsLeft: 12 }));
    expect(dialog.textContent).toContain("in 12 seconds.");

    const before = backend.stillHereCalls;
    fireEvent.click(button);
    expect(backend.stillHereCalls).toBe(before + 1);

    act(() => backend.warn({ secondsLeft: null }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(document.querySelector(".frame")!.hasAttribute("inert")).toBe(false);
  });

  it("keeps focus on its button", async () => {
    const backend = fakeBackend();
    renderStep(step, kiosk, backend);
    await act(async () => {});
    act(() => backend.warn({ secondsLeft: 20 }));
    const button = screen.getByRole("button", { name: "I'm still here" });

    fireEvent.keyDown(document.activeElement!, { key: "Tab" });
    expect(document.activeElement).toBe(button);
    act(() => screen.getByRole("button", { name: "Continue", hidden: true }).focus());
    expect(document.activeElement).toBe(button);
  });

  it("is not there outside a kiosk", async () => {
    const backend = fakeBackend();
    renderStep(step, standard, backend);
    await act(async () => {});
    act(() => backend.warn({ secondsLeft: 20 }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
  });
});

describe("activity on a kiosk", () => {
  it("tells the Rust side the person is still here, at most every 5 seconds", async () => {
    const backend = fakeBackend();
    renderStep(step, kiosk, backend);
    await act(async () => {});

    fireEvent.keyDown(document.body, { key: "a" });
    expect(backend.stillHereCalls).toBe(1);
    fireEvent.pointerDown(document.body);
    fireEvent.keyDown(document.body, { key: "b" });
    expect(backend.stillHereCalls).toBe(1);

    vi.advanceTimersByTime(STILL_HERE_EVERY_MS);
    fireEvent.pointerDown(document.body);
    expect(backend.stillHereCalls).toBe(2);
  });

  it("is not reported outside a kiosk", async () => {
    const backend = fakeBackend();
    renderStep(step, standard, backend);
    await act(async () => {});
    fireEvent.keyDown(document.body, { key: "a" });
    expect(backend.stillHereCalls).toBe(0);
  });
});
