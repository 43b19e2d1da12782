"""`lookalike ui`: its flags, and the image relay that lets the API live on another host."""

from __future__ import annotations

import argparse

import httpx

import ui.commands
from tests.ui.conftest import SAMPLE_ID
from ui.client import LookalikeClient


def test_ui_command_defaults() -> None:
    parser = argparse.ArgumentParser()
    ui.commands.register(parser.add_subparsers())
    args = parser.parse_args(["ui"])
    assert (args.host, args.port, args.api_url) == ("127.0.0.1", 7860, None)
    assert args.run is ui.commands.run


def test_images_are_relayed_from_the_api(ui_url: str, client: LookalikeClient) -> None:
    response = httpx.get(f"{ui_url}products/{SAMPLE_ID}/image")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == client.image(SAMPLE_ID)[0]


def test_a_missing_image_is_relayed_as_the_api_error(ui_url: str) -> None:
    response = httpx.get(f"{ui_url}products/999999999/image")
    assert response.status_code == 404
    assert "no product with id" in response.text
