// The house as README's "Layout" describes it: imports run one way (components never read the
// settings, the settings never the stack), each file short enough to read in one sitting, and
// every folder of the program in README's tree.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../scripts/stackConfig";

const SRC = path.join(REPO_ROOT, "src");
const MAX_LINES = 250;

function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []);
}

/** The repository paths a file imports, resolved from its relative imports. */
function importsOf(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    return [...text.matchAll(/from "(\.{1,2}\/[^"]+)"/g)]
        .map((m) => path.relative(REPO_ROOT, path.resolve(path.dirname(file), m[1])));
}

describe("the layout README describes", () => {
    const program = [path.join(REPO_ROOT, "index.ts"), ...sources(SRC)];

    it("keeps the components and the chart's values free of the settings and of the stack", () => {
        const wrong = sources(path.join(SRC, "components")).concat(sources(path.join(SRC, "chart")))
            .flatMap((f) => importsOf(f).filter((i) => i.startsWith("src/settings") || i === "src/stack")
                .map((i) => `${path.relative(REPO_ROOT, f)} imports ${i}`));
        assert.deepStrictEqual(wrong, []);
    });

    it("keeps the settings and the guards free of the stack, and the guards of the settings' readers", () => {
        const wrong = sources(path.join(SRC, "settings")).concat(sources(path.join(SRC, "guards")))
            .flatMap((f) => importsOf(f).filter((i) => i === "src/stack" ||
                (f.includes("/guards/") && /^src\/settings\/(load|reader|buildSettings|clusterSettings)$/.test(i)))
                .map((i) => `${path.relative(REPO_ROOT, f)} imports ${i}`));
        assert.deepStrictEqual(wrong, []);
    });

    it(`has no file of the program longer than ${MAX_LINES} lines`, () => {
        const long = program.map((f) => [path.relative(REPO_ROOT, f), fs.readFileSync(f, "utf8").split("\n").length - 1] as const)
            .filter(([, lines]) => lines > MAX_LINES);
        assert.deepStrictEqual(long, []);
    });

    it("names every folder of src/ in README's layout", () => {
        const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
        const layout = /^## Layout\n([\s\S]*?)(?=^## |$(?![\s\S]))/m.exec(readme)?.[1] ?? "";
        const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `src/${e.name}/`);
        for (const folder of folders) assert.ok(layout.includes(`    ${folder}`), `README's layout lacks ${folder}`);
        assert.ok(layout.includes("parts/"), "README's layout lacks src/components/parts/");
    });
});

/** Folders of the repository's Python project (pyproject.toml): all but the code location's own and the images'. */
const NOT_THE_PYTHON_PROJECT = new Set(["node_modules", "bin", "code-locations", "test-images"]);

function pythonFolders(dir: string): string[] {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    const here = dir !== REPO_ROOT && entries.some((e) => e.isFile() && e.name.endsWith(".py")) ? [dir] : [];
    return here.concat(entries.filter((e) => e.isDirectory() && !e.name.startsWith(".") && !e.name.startsWith("__") &&
        !(dir === REPO_ROOT && NOT_THE_PYTHON_PROJECT.has(e.name))).flatMap((e) => pythonFolders(path.join(dir, e.name))));
}

describe("the Python project README describes", () => {
    const folders = pythonFolders(REPO_ROOT);

    it("finds the tools and the tests' Python", () => {
        for (const folder of ["takeover", "status", "database", "tests/harness", "tests/node/rehearsal"]) {
            assert.ok(folders.includes(path.join(REPO_ROOT, folder)), folder);
        }
    });

    it("makes every folder of it a package, imported by name from the repository root", () => {
        const notPackages = folders.filter((f) => !fs.existsSync(path.join(f, "__init__.py")));
        assert.deepStrictEqual(notPackages.map((f) => path.relative(REPO_ROOT, f)), []);
    });

    it("never changes sys.path in code", () => {
        const changing = folders.flatMap((f) => fs.readdirSync(f).filter((n) => n.endsWith(".py"))
            .map((n) => path.join(f, n)).filter((file) => /\bsys\.path\b/.test(fs.readFileSync(file, "utf8"))));
        assert.deepStrictEqual(changing.map((f) => path.relative(REPO_ROOT, f)), []);
    });
});
