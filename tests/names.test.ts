// The names the Python tools read (takeover/program_names.json) are the program's own: one source.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { programNames } from "../scripts/names";
import { REPO_ROOT } from "../scripts/stackConfig";

describe("names shared with the Python tools", () => {
    it("are written in takeover/program_names.json exactly as the program gives them", () => {
        const file = path.join(REPO_ROOT, "takeover", "program_names.json");
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, "utf8")), programNames(),
            "takeover/program_names.json differs from the program: npm run --silent names > takeover/program_names.json");
    });
});
