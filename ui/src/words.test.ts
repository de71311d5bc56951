import { describe, expect, it } from "vitest";
import type { AddressProblem, PinProblem, PinState } from "./generated/ipc";
import { addressProblem, askIt, commandError, failure, nameProblem, pinProblem, pinState, seconds, tries } from "./words";

describe("address problems", () => {
  const every: AddressProblem[] = [
    { kind: "empty" },
    { kind: "missingAt" },
    { kind: "moreThanOneAt" },
    { kind: "missingName" },
    { kind: "missingDomain" },
    { kind: "incompleteDomain" },
    { kind: "invalidCharacter", character: "," },
    { kind: "invalidCharacter", character: " " },
    { kind: "misplacedDot" },
    { kind: "invalidDomain" },
    { kind: "tooLong" },
  ];

  it("each has its own sentence, ending with a full stop", () => {
    const sentences = every.map(addressProblem);
    expect(new Set(sentences).size).toBe(every.length);
    for (const sentence of sentences) expect(sentence).toMatch(/^[A-Z].*\.$/);
  });

  it("names the offending character", () => {
    expect(addressProblem({ kind: "invalidCharacter", character: "," })).toContain("“,”");
  });
});

describe("PIN problems", () => {
  const every: PinProblem[] = [
    { kind: "empty" },
    { kind: "tooShort", min: 6 },
    { kind: "tooLong", max: 63 },
    { kind: "tooObvious" },
    { kind: "mismatch" },
    { kind: "sameAsCurrent" },
    { kind: "wrong", retriesLeft: 4 },
    { kind: "refusedByKey" },
  ];

  it.each(["new", "current"] as const)("each has its own sentence about the %s PIN", (field) => {
    const sentences = every.map((problem) => pinProblem(problem, field));
    expect(new Set(sentences).size).toBe(every.length);
    for (const sentence of sentences) expect(sentence).toMatch(/^[A-Z].*\.$/);
  });

  it("names the numbers", () => {
    expect(pinProblem({ kind: "tooShort", min: 8 })).toBe("Use at least 8 characters.");
    expect(pinProblem({ kind: "wrong", retriesLeft: 0 })).toBe("That PIN isn't right. No tries are left.");
  });
});

describe("other words", () => {
  it("has a sentence for each name problem, PIN state and command error", () => {
    const sentences = [
      nameProblem({ kind: "empty" }),
      nameProblem({ kind: "tooLong", max: 30 }),
      ...(
        [
          { state: "notSet" },
          { state: "set", retries: 8 },
          { state: "changeRequired", retries: 8 },
          { state: "reinsertNeeded", retries: 5 },
          { state: "blocked" },
        ] as PinState[]
      ).map(pinState),
      commandError({ kind: "noVirtualKey" }),
    ];
    for (const sentence of sentences) expect(sentence).toMatch(/^[A-Z].*\.$/);
    expect(new Set(sentences).size).toBe(sentences.length);
  });

  it("counts in the singular and the plural", () => {
    expect([tries(1), tries(2), seconds(1), seconds(30)]).toEqual(["1 try", "2 tries", "1 second", "30 seconds"]);
  });
});

describe("a directory that does not let apps register keys", () => {
  it("says Microsoft does not allow it yet, and what IT can do", () => {
    const words = failure({ kind: "selfServiceNotSupported" });
    expect(words.explanation).toMatch(/^Microsoft does not yet let apps register security keys directly\./);
    expect(words.explanation).toContain("tap2key's onboarding service");
    expect(askIt({ kind: "selfServiceNotSupported" })).toContain("IT: set up the tap2key onboarding service, see docs/entra.md");
  });
});
