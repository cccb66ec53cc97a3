// Reading structured stack configuration while collecting every problem, instead of stopping
// at the first: the building blocks the settings readers (buildSettings.ts, clusterSettings.ts) use.
import { configRm, configSet, Problem } from "../problem";
import * as rules from "./rules";

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export class ConfigReader {
    readonly problems: Problem[] = [];

    constructor(protected readonly raw: Record<string, string>) {}

    report(key: string, problem: string, fix: string): void {
        this.problems.push({ key, problem, fix });
    }

    string(key: string, rule: rules.Rule, example: string): string | undefined {
        const value = this.raw[key];
        if (value === undefined || value === "") {
            this.report(key, "is not set", configSet(key, example));
            return undefined;
        }
        return this.check(key, value, rule, configSet(key, example));
    }

    integer(key: string, min: number, max: number, example: number, why?: string): number | undefined {
        const value = this.raw[key];
        const n = Number(value);
        if (value === undefined || !/^-?[0-9]+$/.test(value.trim()) || n < min || n > max) {
            const shown = value === undefined ? "is not set" : `"${value}" is not a whole number from ${min} to ${max}`;
            this.report(key, why ? `${shown}: ${why}` : shown, configSet(key, example));
            return undefined;
        }
        return n;
    }

    protected json(key: string, value: string): Json | undefined {
        try {
            return JSON.parse(value) as Json;
        } catch {
            this.report(key, "is not valid structured configuration (JSON); remove it, then set each field " +
                `with pulumi config set --path '${key}.<field>'`, configRm(key));
            return undefined;
        }
    }

    /** An object with only the allowed keys (any keys when `allowed` is undefined). */
    protected object(key: string, allowed: string[] | undefined, fix: string, given?: Json): Record<string, Json> | undefined {
        const value = given !== undefined ? given : this.raw[key] === undefined ? undefined : this.json(key, this.raw[key]);
        if (value === undefined) {
            this.report(key, "is not set", fix);
            return undefined;
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            this.report(key, "is not an object of named fields", fix);
            return undefined;
        }
        for (const k of Object.keys(value)) {
            if (allowed && !allowed.includes(k)) {
                this.report(`${key}.${k}`, `is not a known field (known: ${allowed.join(", ")})`, configRm(`${key}.${k}`));
            }
        }
        return value;
    }

    protected requiredString(o: Record<string, Json>, key: string, field: string, rule: rules.Rule, example?: string): string | undefined {
        const value = o[field];
        const fix = configSet(`${key}.${field}`, example);
        if (value === undefined || value === null || value === "") {
            this.report(`${key}.${field}`, "is not set", fix);
            return undefined;
        }
        return this.check(`${key}.${field}`, String(value), rule, fix);
    }

    protected optionalString<D extends string | undefined>(o: Record<string, Json>, key: string, field: string, rule: rules.Rule, fallback: D): string | D {
        const value = o[field];
        if (value === undefined || value === null) return fallback;
        return this.check(`${key}.${field}`, String(value), rule, configSet(`${key}.${field}`, fallback)) ?? fallback;
    }

    protected optionalInteger(o: Record<string, Json>, key: string, field: string, min: number, max: number, fallback: number): number | undefined {
        const value = o[field];
        if (value === undefined || value === null) return fallback;
        const n = Number(value);
        if (!/^-?[0-9]+$/.test(String(value).trim()) || n < min || n > max) {
            this.report(`${key}.${field}`, `"${value}" is not a whole number from ${min} to ${max}`,
                configSet(`${key}.${field}`, fallback));
            return undefined;
        }
        return n;
    }

    protected check(key: string, value: string, rule: rules.Rule, fix: string): string | undefined {
        const problem = rule(value);
        if (problem === undefined) return value;
        this.report(key, `"${value}" ${problem}`, fix);
        return undefined;
    }
}
