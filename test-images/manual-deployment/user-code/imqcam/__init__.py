"""The manual deployment's code location, as the takeover rehearsal needs it: Dagster 1.7.5 jobs
that write runs of each outcome, with step events, into the old run history."""
from dagster import Definitions, Failure, In, job, op


@op
def count_words(context) -> int:
    context.log.info("counting")
    return len("the manual deployment wrote this run".split())


@op(ins={"words": In(int)})
def double(words: int) -> int:
    return 2 * words


@op
def refuse() -> None:
    raise Failure("this run fails on purpose, so the history holds a failure too")


@job
def count_job():
    double(count_words())


@job
def failing_job():
    refuse()


defs = Definitions(jobs=[count_job, failing_job])
