// The backup schedule's check (rules.cronSchedule) against Kubernetes' own parser: robfig/cron's
// standard parser, which the CronJob API and controller use, run from the Go module proxy
// (tests/cron/main.go). Every schedule here gets the same verdict from both.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { parse } from "shell-quote";
import { cronSchedule } from "../src/settings/rules";
import { runProgram } from "./harness/mockProgram";

const SCHEDULES = [
    // Accepted by both.
    "30 2 * * *", "0 */6 * * *", "*/15 * * * *", "0 0 * * MON-FRI", "0 0 ? * 1", "15 3 * * 0", "0 0 31 2 *",
    "0 0 1 JAN,JUL *", "0-30/10 1-5 1,15 * SUN", "0 0 * * */7", "59 23 31 12 6", "@daily", "@hourly", "@yearly",
    // Refused by both.
    "61 2 * * *", "0 25 * * *", "0 0 0 * *", "0 0 32 * *", "0 0 1 13 *", "0 0 1 0 *", "0 0 * * 7", "0 0 * * 1-7",
    "0 0 L * *", "0 0 1W * *", "0 0 * * 1#2", "0 0 * * 5L", "* * * *", "* * * * * *", "every night", "@fortnightly",
    "0 0 * JANUARY *", "5-1 * * * *",
];

describe("backup schedules", () => {
    it("get Kubernetes' own verdict: refused exactly where robfig/cron refuses them", function () {
        this.timeout(300000); // the first `go run` fetches and builds robfig/cron
        const kubernetes = JSON.parse(execFileSync("go", ["run", "."], {
            cwd: path.join(__dirname, "cron"), input: JSON.stringify(SCHEDULES), encoding: "utf8",
        })) as string[];
        const disagreements = SCHEDULES.filter((s, i) => (cronSchedule(s) === undefined) !== (kubernetes[i] === ""))
            .map((s) => `${s}: ours ${cronSchedule(s) ?? "accepts"}; Kubernetes ${kubernetes[SCHEDULES.indexOf(s)] || "accepts"}`);
        assert.deepStrictEqual(disagreements, []);
        assert.ok(kubernetes.filter((v) => v === "").length >= 10 && kubernetes.filter((v) => v !== "").length >= 10);
    });

    it("name the field that is wrong", () => {
        assert.match(cronSchedule("61 2 * * *")!, /^has an invalid minute "61" \(.*59/);
        assert.match(cronSchedule("0 25 * * *")!, /^has an invalid hour "25"/);
        assert.strictEqual(cronSchedule("0 0 * * 7"), 'has an invalid day-of-week "7": Kubernetes takes 0-6 (0 is Sunday)');
    });

    it("print a fix that a shell runs as written: the default schedule quoted, its `*` not expanded", async () => {
        const run = await runProgram({ overrides: { backups: { value: { schedule: "61 2 * * *" } } } });
        const problem = (run.error as Error & { problems: { key: string; fix: string }[] }).problems
            .find((p) => p.key === "backups.schedule")!;
        assert.deepStrictEqual(parse(problem.fix), ["pulumi", "config", "set", "--path", "backups.schedule", "30 2 * * *"]);
    });
});
