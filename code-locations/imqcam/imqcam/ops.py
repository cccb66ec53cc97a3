"""Example ops: repeat a word, then count its letters."""

from collections import Counter

from dagster import Config, op

from imqcam.k8s import K8S_JOB_TAGS


class MultiplyTheWordConfig(Config):
    factor: int


@op(tags=K8S_JOB_TAGS)
def multiply_the_word(word: str, config: MultiplyTheWordConfig) -> str:
    return word * config.factor


@op(tags=K8S_JOB_TAGS)
def count_letters(word: str) -> dict[str, int]:
    return dict(Counter(word))
