// A printed fix is commands a user pastes into a shell: it must run as written. Read here with
// shell-quote, a shell parser, so whatever a shell would take as a redirection (`<value>`), a
// subshell (`(or ...)`), a glob or a variable is caught, as is a placeholder inside quotes.
import * as assert from "assert";
import { parse } from "shell-quote";

/** The programs a fix may run. */
const PROGRAMS = ["pulumi", "npm", "kubectl"];

/** Why `fix` would not run as pasted; empty when it would. */
export function whyNotPasteable(fix: string): string[] {
    const reasons: string[] = [];
    if (/[$`]/.test(fix)) reasons.push("the shell would expand a $ or ` in it");
    const commands: string[][] = [[]];
    for (const token of parse(fix)) {
        if (typeof token !== "string") {
            if ("op" in token && token.op === "&&") commands.push([]);
            else reasons.push(`the shell reads ${JSON.stringify(token)} as an operator, not a word`);
        } else {
            if (/[<>…]|\.\.\./.test(token)) reasons.push(`"${token}" is a placeholder, not a value`);
            commands[commands.length - 1].push(token);
        }
    }
    for (const command of commands) {
        if (!PROGRAMS.includes(command[0])) reasons.push(`"${command.join(" ")}" does not run ${PROGRAMS.join(", ")}`);
    }
    return reasons;
}

export function assertPasteable(fix: string, where: string): void {
    assert.deepStrictEqual(whyNotPasteable(fix), [], `${where}: the fix "${fix}" does not run as pasted`);
}
