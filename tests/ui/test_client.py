"""The API client against a real API over the catalogue slice, and its error messages."""

from __future__ import annotations

import pytest

from tests.ui.conftest import SAMPLE_ID
from ui.client import ApiError, LookalikeClient, Tuning
from ui.guide import MODELS


def test_product_and_its_image(client: LookalikeClient) -> None:
    product = client.product(SAMPLE_ID)
    assert (product.product_id, product.articleType) == (SAMPLE_ID, "Shirts")
    assert product.image_url == f"/products/{SAMPLE_ID}/image"
    content, media_type = client.image(SAMPLE_ID)
    assert media_type == "image/png"
    assert content.startswith(b"\x89PNG")


def test_find_by_name_and_random(client: LookalikeClient) -> None:
    found = client.find_products("shirt", limit=5)
    assert 0 < len(found) <= 5
    assert all("shirt" in (p.name or "").lower() for p in found)
    assert client.random_product().has_image


def test_recommend_follows_the_tuning(client: LookalikeClient) -> None:
    tuning = Tuning(model="hybrid", top_k=7, lambda_diversity=0.3, category_mode="hard")
    response = client.recommend(SAMPLE_ID, tuning)
    assert response.query.product_id == SAMPLE_ID
    p = response.parameters
    assert (p.model, p.top_k, p.lambda_diversity, p.category_mode) == ("hybrid", 7, 0.3, "hard")
    assert len(response.results) == 7
    assert all(r.category_match for r in response.results)
    assert SAMPLE_ID not in {r.product_id for r in response.results}
    assert response.timings.total_ms > 0


def test_filters_reach_the_api_and_empty_ones_do_not(client: LookalikeClient) -> None:
    tuning = Tuning(category_mode="off", filters={"gender": "Women", "season": ""})
    response = client.recommend(SAMPLE_ID, tuning)
    assert response.parameters.filters == {"gender": "Women"}
    assert response.results
    assert all(r.gender == "Women" for r in response.results)


@pytest.mark.parametrize("model", list(MODELS))
def test_every_model_of_the_picker_is_served(client: LookalikeClient, model: str) -> None:
    response = client.recommend(SAMPLE_ID, Tuning(model=model, top_k=3))
    assert response.model == model
    assert len(response.results) == 3


def test_search_by_text_and_by_photo(client: LookalikeClient) -> None:
    text = client.search_text("blue shirt", Tuning(model="clip", top_k=4))
    assert (text.query, text.model, len(text.results)) == ("blue shirt", "clip", 4)
    image, _ = client.image(SAMPLE_ID)
    photo = client.search_image(image, "shirt.png", Tuning(model="resnet", top_k=3))
    assert (photo.model, len(photo.results)) == ("resnet", 3)
    assert SAMPLE_ID in {r.product_id for r in photo.results}


def test_models_and_readiness(client: LookalikeClient) -> None:
    assert set(MODELS) <= {m.name for m in client.models()}
    assert client.health().status == "ok"


def test_api_down_says_how_to_fix_it(down_client: LookalikeClient) -> None:
    with pytest.raises(
        ApiError, match=r"Cannot reach the Lookalike API at http://127\.0\.0\.1:\d+"
    ):
        down_client.product(SAMPLE_ID)
    with pytest.raises(ApiError, match=r"lookalike serve.*--api-url URL.*LOOKALIKE_API_URL"):
        down_client.models()


def test_unknown_product_is_a_plain_404(client: LookalikeClient) -> None:
    with pytest.raises(ApiError, match=r"no product with id '999999999'") as info:
        client.recommend("999999999", Tuning())
    assert info.value.status_code == 404


def test_malformed_id_never_reaches_the_api(client: LookalikeClient) -> None:
    with pytest.raises(ApiError, match=r"'\.\./models' is not a product id"):
        client.product("../models")


def test_invalid_tuning_names_the_field(client: LookalikeClient) -> None:
    with pytest.raises(ApiError, match=r"unknown model 'nope'.*\(field `model`\)") as info:
        client.recommend(SAMPLE_ID, Tuning(model="nope"))
    assert info.value.status_code == 400
    with pytest.raises(ApiError, match=r"field `model`"):
        client.search_text("blue shirt", Tuning(model="resnet"))


def test_a_server_that_is_not_the_api_is_named(ui_url: str) -> None:
    with (
        LookalikeClient(ui_url) as not_the_api,
        pytest.raises(ApiError, match=r"HTTP 404 without an explanation: check that .* is the"),
    ):
        not_the_api.models()


def test_lists_carry_a_ranking_id_and_the_shopper(client: LookalikeClient) -> None:
    first = client.recommend(SAMPLE_ID, Tuning(top_k=3), user_id="ui-0123abcd")
    again = client.recommend(SAMPLE_ID, Tuning(top_k=3), user_id="ui-0123abcd")
    assert first.ranking_id and first.ranking_id != again.ranking_id  # one id per list served
    assert (first.experiment, first.arm) == (None, None)  # no experiment on this API
    found = client.search_text("blue shirt", Tuning(top_k=3), user_id="ui-0123abcd")
    assert found.ranking_id and found.ranking_id != first.ranking_id


def test_a_malformed_shopper_id_names_the_field(client: LookalikeClient) -> None:
    with pytest.raises(ApiError, match=r"field `user_id`") as info:
        client.recommend(SAMPLE_ID, Tuning(), user_id="not a shopper id")
    assert info.value.status_code == 400
