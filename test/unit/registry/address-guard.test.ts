import test from "ava";
import {
  checkLiteralAddress,
  guardedLookup,
  isInternalAddress,
} from "../../../src/registry/address-guard.ts";

test("internal ranges are recognised, public ones are not", (t) => {
  for (const a of [
    "127.0.0.1",
    "10.1.2.3",
    "172.20.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::",
  ]) {
    t.true(isInternalAddress(a), a);
  }
  for (const a of [
    "8.8.8.8",
    "172.32.0.1",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "not-an-ip",
  ]) {
    t.false(isInternalAddress(a), a);
  }
});

test("an internal IP literal is refused unless allowed", (t) => {
  const error = t.throws(() => {
    checkLiteralAddress("169.254.169.254", "169.254.169.254", false);
  });
  t.is((error as { code?: string }).code, "ERR_REGISTRY_NOT_ALLOWED");
  t.notThrows(() => {
    checkLiteralAddress("127.0.0.1:5000", "127.0.0.1", true);
  });
  t.notThrows(() => {
    checkLiteralAddress("r.io", "r.io", false);
  });
  t.throws(() => {
    checkLiteralAddress("[::1]:5000", "[::1]", false);
  });
});

test("a name resolving to loopback is refused by the lookup, unless allowed", async (t) => {
  const lookup = (allow: boolean) =>
    new Promise<unknown>((resolve, reject) => {
      guardedLookup("localhost:5000", allow)("localhost", {}, (error, address) => {
        if (error) reject(error);
        else resolve(address);
      });
    });
  const error = await t.throwsAsync(lookup(false));
  t.is((error as { code?: string }).code, "ERR_REGISTRY_NOT_ALLOWED");
  t.regex(String(await lookup(true)), /^(127\.0\.0\.1|::1)$/);
});
