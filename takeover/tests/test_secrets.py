"""No secret value in any printed line, command argument, environment or file the takeover writes;
values reach `pulumi config set` on stdin only."""
import base64
import json

from takeover.tests.fake import secret_values


def _all_written(session) -> str:
    folder = session.root / ".takeover" / "kde04"
    return "\n".join(p.read_text(errors="replace") for p in folder.iterdir() if p.suffix in (".json", ""))


def test_no_secret_value_is_printed_or_passed_as_an_argument(world, session):
    assert session.run("--yes", "--delete-old") == 0
    printed = session.text()
    state = session.state_path.read_text()
    for name, value in secret_values().items():
        for form in (value, base64.b64encode(value.encode()).decode()):
            assert form not in printed, name
            assert form not in state, name
            for call in world.log:
                assert all(form not in arg for arg in call.argv), (name, call.argv)
                assert all(form not in v for v in call.env.values()), name
    assert _all_written(session)  # the check above read something


def test_each_value_goes_on_stdin_of_its_own_config_set(world, session):
    assert session.run("--yes") == 0
    values = secret_values()
    sets = world.calls("pulumi config set")
    assert len(sets) == 4
    for call in sets:
        path = call.argv[call.argv.index("--path") + 1]
        secret_key = path[len("envSecrets."):]
        assert call.stdin == (values[secret_key] + "\n").encode()
        assert "--secret" in call.argv
    assert {f"{s}.{k}": v for s, keys in world.env_secrets.items() for k, v in keys.items()} == values


def test_a_value_ending_in_a_newline_keeps_it(world, session):
    # pulumi strips exactly one trailing newline from stdin; the takeover adds one.
    world.secrets["girder-connection-info"]["data"]["GIRDER_API_KEY"] = base64.b64encode(b"line1\nline2\n").decode()
    assert session.run("--yes") == 0
    assert world.env_secrets["girder-connection-info"]["GIRDER_API_KEY"] == "line1\nline2\n"


def test_values_already_in_the_stack_are_left_alone(world, session):
    world.env_secrets = {"girder-connection-info": {"GIRDER_API_KEY": "set-by-hand", "GIRDER_API_URL": "u"}}
    assert session.run("--yes") == 0
    paths = [c.argv[c.argv.index("--path") + 1] for c in world.calls("pulumi config set")]
    assert paths == ["envSecrets.globus-compute-creds.GLOBUS_COMPUTE_CLIENT_ID",
                     "envSecrets.globus-compute-creds.GLOBUS_COMPUTE_CLIENT_SECRET"]
    assert world.env_secrets["girder-connection-info"]["GIRDER_API_KEY"] == "set-by-hand"
    assert "already set in the stack" in session.text()


def test_a_half_copied_secret_gets_only_its_missing_key(world, session):
    world.env_secrets = {"girder-connection-info": {"GIRDER_API_KEY": "copied-before-a-crash"}}
    assert session.run("--yes") == 0
    paths = [c.argv[c.argv.index("--path") + 1] for c in world.calls("pulumi config set")]
    assert paths[0] == "envSecrets.girder-connection-info.GIRDER_API_URL" and len(paths) == 3


def test_a_config_value_left_unencrypted_fails_the_step(world, session):
    # As if the stack file kept a value in clear text: stackConfig.ts then prints the value itself.
    original = world._stack_config

    def plaintext(stack, key):
        out = original(stack, key)
        if key == "envSecrets" and world.env_secrets:
            data = json.loads(out)
            data["girder-connection-info"]["GIRDER_API_URL"] = "clear"
            return json.dumps(data).encode()
        return out
    world._stack_config = plaintext
    assert session.run("--yes") == 1
    assert "GIRDER_API_URL are not encrypted" in session.text()
    assert not world.calls("helm uninstall")
