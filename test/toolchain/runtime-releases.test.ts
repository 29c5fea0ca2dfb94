// Runtime releases: --impl NAME@VERSION and NAME@all, the lock's shape, the
// package patterns, and the committed lock against the release table.
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { architectures } from "../../src/architectures.ts";
import { parseImplementationItem } from "../../src/implementation-spec.ts";
import { formatRuntimeLock, parseRuntimeLock, type RuntimeLock } from "../../src/runtime-lock.ts";
import { isReleaseVersion, releaseName, releasePackages, releaseTargetKey, resolvePackagePattern, runtimeReleases } from "../../src/runtime-releases.ts";
import { UsageError } from "../../src/usage-error.ts";
import { projectRoot } from "../../harness/process/project-root.ts";

const names = ["reference", "go", "glibc", "musl", "node"];

test("--impl: a bare name is the default release, NAME@VERSION one row, NAME@all every row", (t) => {
  t.deepEqual(parseImplementationItem("go", names), [{ name: "go" }]);
  t.deepEqual(parseImplementationItem("glibc@2.41", names), [{ name: "glibc", version: "2.41" }]);
  t.deepEqual(
    parseImplementationItem("musl@all", names).map((spec) => spec.version),
    runtimeReleases.filter((release) => release.runtime === "musl").map((release) => release.version),
  );
});

for (const [item, message] of [
  ["go@1.7", /go has no release 1\.7 \(known: 1\.19,.*,all\)/],
  ["reference@1", /reference has no releases/],
  ["rust@1.80", /unknown implementation 'rust'/],
  ["go@", /not NAME or NAME@VERSION/],
  ["go@1.24@x", /not NAME or NAME@VERSION/],
] as const) {
  test(`--impl ${item} is a usage error`, (t) => {
    const error = t.throws(() => parseImplementationItem(item, names), { instanceOf: UsageError });
    t.regex(error!.message, message);
  });
}

test("resolvePackagePattern takes the highest-numbered name of the shape, and only that shape", (t) => {
  const listed = ["libgcc-12-dev-arm64-cross", "libgcc-14-dev-arm64-cross", "libgcc-14-dev-armhf-cross", "libgcc-s1-arm64-cross", "libgcc-9x-dev-arm64-cross"];
  t.is(resolvePackagePattern("libgcc-*-dev-arm64-cross", listed), "libgcc-14-dev-arm64-cross");
  t.is(resolvePackagePattern("libgcc-*-dev-riscv64-cross", listed), undefined);
  t.is(resolvePackagePattern("libgcc-s1-arm64-cross", listed), "libgcc-s1-arm64-cross");
  t.is(resolvePackagePattern("musl-dev", listed), undefined);
});

const sha = (digit: string) => digit.repeat(64);
const sample: RuntimeLock = {
  releases: {
    "musl@1.2.5": {
      mips64le: { unavailable: "trixie has no musl-dev (mips64el index)" },
      arm64: { packages: [{ package: "musl-dev", version: "1.2.5-3", suite: "trixie", sha256: sha("a"), debianArchitecture: "arm64" }] },
    },
  },
};

test("formatRuntimeLock sorts and parseRuntimeLock reads it back unchanged", (t) => {
  const text = formatRuntimeLock(sample);
  t.deepEqual(parseRuntimeLock(text, "lock.json"), sample);
  t.true(text.indexOf('"arm64"') < text.indexOf('"mips64le"'));
});

for (const [why, text, message] of [
  ["not JSON", "{", /lock\.json: not JSON/],
  ["no releases", "{}", /no "releases" object/],
  ["a bad release name", '{"releases":{"go":{}}}', /releases\.go: not NAME@VERSION/],
  ["an empty entry", '{"releases":{"go@1.24":{"toolchain":{}}}}', /releases\.go@1\.24\.toolchain: neither "packages" nor "unavailable"/],
  ["a short sha256", `{"releases":{"go@1.24":{"toolchain":{"packages":[{"package":"p","version":"1","suite":"trixie","sha256":"ab","debianArchitecture":"amd64"}]}}}}`, /packages\[0\]\.sha256: not 64 hex digits/],
  ["a missing field", `{"releases":{"go@1.24":{"toolchain":{"packages":[{"package":"p","version":"1","suite":"trixie","sha256":"${sha("b")}"}]}}}}`, /packages\[0\]\.debianArchitecture: missing/],
] as const) {
  test(`parseRuntimeLock refuses ${why}, naming the field`, (t) => {
    t.throws(() => parseRuntimeLock(text, "lock.json"), { message });
  });
}

test("the committed runtimes.lock.json has an entry for every release and target, each from the release's suite with its packages", (t) => {
  const lock = parseRuntimeLock(readFileSync(join(projectRoot, "runtimes.lock.json"), "utf8"), "runtimes.lock.json");
  for (const release of runtimeReleases) {
    for (const architecture of architectures) {
      const entry = lock.releases[releaseName(release)]?.[releaseTargetKey(release, architecture)];
      if (entry === undefined) {
        t.fail(`no entry for ${releaseName(release)} ${architecture.name}`);
        continue;
      }
      if ("unavailable" in entry) continue;
      const requests = releasePackages(release, architecture);
      // A userland's request brings its dependency closure after it: more packages, each of the suite, each once.
      const closure = requests.some((request) => request.withDependencies);
      if (closure) t.true(entry.packages.length > requests.length, `${releaseName(release)} ${architecture.name}: a closure`);
      else t.is(entry.packages.length, requests.length, `${releaseName(release)} ${architecture.name}`);
      t.is(new Set(entry.packages.map((pinned) => pinned.package)).size, entry.packages.length, `${releaseName(release)} ${architecture.name}: each package once`);
      for (const [index, pinned] of entry.packages.entries()) {
        t.is(pinned.suite, release.suite);
        if (index >= requests.length) continue;
        const pattern = new RegExp(`^${requests[index]!.name.replace("*", "[0-9]+")}$`);
        t.regex(pinned.package, pattern);
      }
    }
  }
});

test("isReleaseVersion: the package's upstream version is the release's, a lagging cross package is not", (t) => {
  const glibc = runtimeReleases.find((release) => release.runtime === "glibc" && release.version === "2.41")!;
  const go = runtimeReleases.find((release) => release.runtime === "go" && release.version === "1.24")!;
  t.true(isReleaseVersion(glibc, "2.41-11cross1"));
  t.false(isReleaseVersion(glibc, "2.40-5cross1"));
  t.false(isReleaseVersion(glibc, "2.411-1"));
  t.true(isReleaseVersion(go, "1.24.4-1"));
  t.true(isReleaseVersion(go, "2:1.24.4-1"));
  t.false(isReleaseVersion(go, "1.2.4-1"));
});
