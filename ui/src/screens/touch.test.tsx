import { act, cleanup, fireEvent, screen } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Step } from "../generated/ipc";
import { demo, fakeBackend, liveRegion, renderStep, standard } from "../testing";

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const heading = () => screen.getByRole("heading", { level: 1 }).textContent;
const countdown = () => screen.getByRole("timer").textContent;
const seconds = (n: number) => act(() => void vi.advanceTimersByTime(n * 1000));

describe.each([
  ["creatingPasskey", "Touch your security key now"],
  ["testSignIn", "One more touch to check your key works"],
] as const)("%s", (name, touchHeading) => {
  it("gets the key ready, then asks for a touch with a countdown from 30", () => {
    const backend = fakeBackend();
    renderStep({ step: name, touch: false }, standard, backend);
    expect(heading()).toBe("Getting your key ready…");
    expect(screen.queryByRole("timer")).toBeNull();

    act(() => backend.push({ step: name, touch: true } as Step));
    expect(heading()).toBe(touchHeading);
    expect(document.activeElement?.tagName).toBe("H1");
    expect(document.querySelector(".pic-glow")).not.toBeNull();
    expect(countdown()).toBe("About 30 seconds left.");
    seconds(1);
    expect(countdown()).toBe("About 29 seconds left.");
    seconds(28);
    expect(countdown()).toBe("About 1 second left.");
    seconds(5);
    expect(countdown()).toBe("Still waiting for your touch.");
    expect(liveRegion().textContent).toMatch(/Touch your security key now\.$/);

    // A new wait for a touch counts from 30 again.
    act(() => backend.push({ step: name, touch: false } as Step));
    act(() => backend.push({ step: name, touch: true } as Step));
    expect(countdown()).toBe("About 30 seconds left.");
  });

  it("cancels the wait", () => {
    const { backend } = renderStep({ step: name, touch: true } as Step);
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(backend.sent).toEqual([{ intent: "cancel" }]);
  });

  it("touches the demo's virtual key from the screen", () => {
    const { backend } = renderStep({ step: name, touch: true } as Step, demo);
    fireEvent.click(screen.getByRole("button", { name: "Touch the key" }));
    expect(backend.touches).toBe(1);
  });

  it("has no on-screen touch without a virtual key", () => {
    renderStep({ step: name, touch: true } as Step, { ...demo, demo: { ...demo.demo!, virtualKey: false } });
    expect(screen.queryByRole("button", { name: "Touch the key" })).toBeNull();
    cleanup();
    renderStep({ step: name, touch: true } as Step, standard);
    expect(screen.queryByRole("button", { name: "Touch the key" })).toBeNull();
  });
});

it("says so when there is no virtual key to touch after all", async () => {
  const backend = fakeBackend();
  backend.touchVirtualKey = () => Promise.reject({ kind: "noVirtualKey" });
  renderStep({ step: "creatingPasskey", touch: true }, demo, backend);
  await act(async () => void fireEvent.click(screen.getByRole("button", { name: "Touch the key" })));
  expect(screen.getByRole("alert").textContent).toBe(
    "There is no on-screen key to touch. Touch your real security key instead.",
  );
});
