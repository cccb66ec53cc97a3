// README's "Rejected inputs" table, as the tests read it: one row per input, each cell what the
// program prints, with the project's Dagster version written <dagsterVersion> so that an upgrade
// (README, "Upgrading Dagster") leaves the table true.
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../scripts/stackConfig";
import { DAGSTER } from "./fixtures";

export interface Row { key: string; message: string; fix: string }

/** Printed text as README's table writes it. */
export function asInReadme(printed: string): string {
    return printed.split(DAGSTER).join("<dagsterVersion>");
}

/** input -> its row; `<` is written &lt; in the message column, which markdown would read as a tag. */
export function readmeRejectedInputs(): Map<string, Row> {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    const section = /^## Rejected inputs\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? "";
    const rows = new Map<string, Row>();
    for (const line of section.split("\n").filter((l) => l.startsWith("|")).slice(2)) {
        const [input, key, message, fix] = line.slice(2, -2).split(" | ");
        const code = (cell: string) => cell.replace(/^`|`$/g, "");
        rows.set(input, { key: code(key), message: message.replace(/&lt;/g, "<"), fix: code(fix) });
    }
    return rows;
}
