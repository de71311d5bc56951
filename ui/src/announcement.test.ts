import { describe, expect, it } from "vitest";
import { announcement } from "./app";
import type { Step } from "./generated/ipc";
import { sampleSteps } from "./samples";

describe("the announcement of each step", () => {
  // A Record over every step name: a new step without a sample fails the type check.
  const first: Record<Step["step"], Step> = {
    welcome: sampleSteps.welcome!,
    readyToSignIn: sampleSteps.readyToSignIn!,
    signingIn: sampleSteps.signingIn!,
    findingKey: sampleSteps.findingKey!,
    keyFound: sampleSteps.keyFound!,
    choosePin: sampleSteps.choosePin!,
    enterPin: sampleSteps.enterPin!,
    changePin: sampleSteps.changePin!,
    checkingPin: sampleSteps.checkingPin!,
    creatingPasskey: sampleSteps.creatingPasskey!,
    namingKey: sampleSteps.namingKey!,
    registering: sampleSteps.registering!,
    testSignIn: sampleSteps.testSignIn!,
    done: sampleSteps.done!,
    failed: sampleSteps.failedTest!,
    removingRegistration: sampleSteps.removingRegistration!,
  };

  it.each(Object.entries(sampleSteps))("%s is a sentence", (_, step) => {
    const words = announcement(step);
    expect(words.length).toBeGreaterThan(8);
    expect(words).toMatch(/^[A-Z].*[.…]$/);
  });

  it("covers every kind of step", () => {
    for (const [name, step] of Object.entries(first)) expect(step.step).toBe(name);
  });

  it("differs between waiting for a touch and getting ready, so the change is heard", () => {
    for (const step of ["creatingPasskey", "testSignIn"] as const) {
      expect(announcement({ step, touch: true })).not.toBe(announcement({ step, touch: false }));
    }
  });
});
