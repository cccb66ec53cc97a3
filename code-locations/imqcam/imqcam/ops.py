"""Example ops: repeat a word, then count its letters."""

from collections import Counter

from dagster import Config, op

from imqcam.k8s import K8S_OP_TAGS


class MultiplyTheWordConfig(Config):
    factor: int


@op(tags=K8S_OP_TAGS)
def multiply_the_word(word: str, config: MultiplyTheWordConfig) -> str:
    # What a step prints is kept as its compute log, readable in the webserver.
    print(f"multiplying {word!r} by {config.factor}")
    return word * config.factor


@op(tags=K8S_OP_TAGS)
def count_letters(word: str) -> dict[str, int]:
    return dict(Counter(word))
