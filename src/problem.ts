// What is wrong with one setting or one object of the cluster, and the commands that fix it: one
// shape for the settings' checks and the cluster's, printed the same way by each of their errors.
import { quote } from "shell-quote";

/** What is wrong with one setting, and `fix`: commands a shell runs as pasted (tests/pasteable.ts). */
export interface Problem { key: string; problem: string; fix: string }

/**
 * `pulumi config set` of one setting, as pasted into a shell: a nested key quoted after --path, the
 * value quoted where the shell would change it (a cron schedule's `*`), or left out when only the
 * user knows it, so that the CLI prompts for it (and never echoes a secret).
 */
export function configSet(key: string, value?: string | number, secret = false): string {
    const target = /[.[]/.test(key) ? `--path '${key}'` : key;
    return ["pulumi config set", ...(secret ? ["--secret"] : []), target,
        ...(value === undefined ? [] : [quote([String(value)])])].join(" ");
}

/** `pulumi config rm` of one setting or one field of it. */
export function configRm(key: string): string {
    return `pulumi config rm ${/[.[]/.test(key) ? `--path '${key}'` : key}`;
}

/** The problems as every error prints them: each key and what is wrong, then its fix. */
export function problemList(problems: Problem[]): string {
    return problems.map((p) => `  - ${p.key}: ${p.problem}\n    fix: ${p.fix}`).join("\n");
}
