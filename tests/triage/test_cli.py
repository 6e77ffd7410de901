"""`socialdesk triage`: train, classify, evaluate and manage versions from the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from socialdesk.cli import app

runner = CliRunner()

NEGATIVE = [
    "the delivery was late again and nobody called",
    "my parcel never arrived, awful",
    "charged twice, terrible service",
    "the app crashes every time, useless",
    "still waiting for my refund, so annoyed",
    "rude staff at the counter today",
]
POSITIVE = [
    "love the new store, great staff",
    "thanks for the quick help, brilliant",
    "delivery came early, very happy",
    "excellent service as always",
    "the team sorted it in minutes, thank you",
    "really impressed with the app",
]
NEUTRAL = [
    "what time do you open on sunday",
    "is the blue one in stock",
    "do you ship to canada",
    "where can I find my invoice",
    "how do I change my address",
    "which plan includes roaming",
]


def write_labeled(path: Path, extra_rows: list[list[str]] | None = None) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "body", "mood"])
        n = 0
        for texts, mood in ((NEGATIVE, "neg"), (POSITIVE, "pos"), (NEUTRAL, "neu")):
            for text in texts:
                n += 1
                writer.writerow([str(n), text, mood])
        for row in extra_rows or []:
            writer.writerow(row)


MAP = "neg=negative,pos=positive,neu=neutral"


def test_train_list_rollback_and_evaluate_a_sentiment_model(cli_env: Path) -> None:
    source = cli_env / "labeled.csv"
    write_labeled(source, [["99", "bad row", "neg", "one field too many"], ["100", "meh", "??"]])
    args = ["--task", "sentiment", "--text-column", "body", "--label-column", "mood", "--map", MAP]

    trained = runner.invoke(app, ["triage", "train", str(source), *args])
    assert trained.exit_code == 0, trained.output
    assert "trained sentiment-v1" in trained.output
    assert "on 18 examples" in trained.output
    assert "skipped line 20: 4 fields where the header has 3" in trained.output
    assert "skipped line 21: sentiment label '??'" in trained.output

    listed = runner.invoke(app, ["triage", "models", "list", "--json"])
    models = json.loads(listed.stdout)
    assert [(m["model"], m["active"]) for m in models] == [("sentiment-v1", True)]

    report = runner.invoke(app, ["triage", "evaluate", str(source), *args, "--json"])
    assert report.exit_code == 0, report.output
    figures = json.loads(report.stdout)
    assert figures["model"] == "sentiment-v1"
    assert figures["examples"] == 18 and figures["skipped_rows"] == 2
    assert figures["accuracy"] >= 0.9  # it has seen these very rows
    assert set(figures["per_class"]) == {"negative", "neutral", "positive"}
    assert len(figures["confusion_matrix"]) == 3

    table = runner.invoke(app, ["triage", "evaluate", str(source), *args, "--model", "zero-shot"])
    assert "model zero-shot" in table.output and "macro-F1" in table.output

    rolled = runner.invoke(app, ["triage", "models", "rollback", "sentiment"])
    assert "back to the seed models and rules" in rolled.output


def test_evaluate_with_a_train_fraction_holds_rows_out(cli_env: Path) -> None:
    source = cli_env / "labeled.csv"
    write_labeled(source)
    result = runner.invoke(
        app,
        [
            "triage", "evaluate", str(source), "--task", "sentiment", "--text-column", "body",
            "--label-column", "mood", "--map", MAP, "--train-fraction", "0.5", "--json",
        ],
    )  # fmt: skip
    figures = json.loads(result.stdout)
    assert figures["train_examples"] == 9 and figures["examples"] == 9
    assert 0.0 <= figures["macro_f1"] <= 1.0


def test_classify_writes_one_json_line_per_readable_input(cli_env: Path) -> None:
    stdin = "\n".join(
        [
            json.dumps({"id": "a", "text": "where is my parcel?"}),
            "{broken",
            json.dumps({"id": "b", "text": ""}),
            json.dumps({"id": "c"}),
        ]
    )
    result = runner.invoke(app, ["triage", "classify", "-"], input=stdin)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert lines[0]["kind"] == "question" and lines[1]["language"] == "und"
    for field in ("kind", "needs_response", "route_to", "sentiment", "sentiment_score", "topic",
                  "language", "severity", "signals", "confidence", "explanation"):  # fmt: skip
        assert field in lines[0]
    assert "skipped line 2: not JSON" in result.output
    assert "skipped line 4: no text in column 'text'" in result.output


def test_from_history_learns_needs_response_from_what_the_brand_answered(cli_env: Path) -> None:
    source = cli_env / "twcs.csv"
    header = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"
    rows = [header]
    answered = ["my router is dead", "billing error again", "app will not log in"]
    ignored = ["lol nice ad", "watching the game", "good morning all"]
    for n, text in enumerate(answered):
        rows.append(f"{n},c{n},True,Tue Oct 31 22:10:47 +0000 2017,{text},{100 + n},")
        rows.append(f"{100 + n},Acme,False,Tue Oct 31 22:20:47 +0000 2017,on it,,{n}")
    for n, text in enumerate(ignored, start=10):
        rows.append(f"{n},c{n},True,Tue Oct 31 22:10:47 +0000 2017,{text},,")
    rows.append("50,c50,maybe,Tue Oct 31 22:10:47 +0000 2017,odd row,,")
    rows.append("51,c51,True,Tue Oct 31 22:10:47 +0000 2017,reply elsewhere,999,")
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")

    result = runner.invoke(app, ["triage", "train", str(source), "--from-history"])
    assert result.exit_code == 0, result.output
    assert "3 answered, 3 left alone, 1 with replies outside the file" in result.output
    assert "trained needs_response-v1" in result.output
    assert "skipped line 11: inbound must be True or False" in result.output


def test_bad_arguments_get_clear_errors(cli_env: Path) -> None:
    missing = runner.invoke(app, ["triage", "train", str(cli_env / "nope.csv")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
    wrong_task = runner.invoke(app, ["triage", "evaluate", "x.csv", "--task", "mood"])
    assert wrong_task.exit_code == 2 and "unknown task 'mood'" in wrong_task.output
    nothing = cli_env / "empty.csv"
    nothing.write_text("text,label\n", encoding="utf-8")
    empty = runner.invoke(app, ["triage", "train", str(nothing)])
    assert empty.exit_code == 1 and "no usable rows" in empty.output


def test_many_bad_rows_are_listed_up_to_a_point_then_counted(cli_env: Path) -> None:
    source = cli_env / "sparse.csv"
    write_labeled(source, [[str(n), f"text {n}", ""] for n in range(100, 160)])
    result = runner.invoke(
        app,
        ["triage", "evaluate", str(source), "--task", "sentiment", "--text-column", "body",
         "--label-column", "mood", "--map", MAP],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.count("skipped line") == 50
    assert "skipped line 20: no label in column 'mood'" in result.output
    assert "... and 10 more rows skipped" in result.output
