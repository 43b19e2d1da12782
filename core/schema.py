"""The catalogue schema: which columns of a shop's table are the id, title, category, texts,
facets, numbers and image. One typed object every stage reads; `lookalike ingest --schema FILE`
stores it with the catalogue it builds, and the shipped Fashion schema is the default."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.errors import LookalikeError

SHIPPED = Path(__file__).with_name("schemas")
FASHION_FILE = SHIPPED / "fashion.toml"
TABLE_FORMATS = (".csv", ".tsv", ".jsonl", ".parquet")
STORED_FILE = "schema.json"  # in the catalogue folder, beside products.parquet
# Columns the catalogue adds to every product: a schema field cannot use these names.
RESERVED = frozenset(
    {"id", "name", "has_image", "image_issue", "image_sha1", "image_file", "pixel_row"}
    | {"duplicate_group", "version", "line", "product_id", "image_url", "image_source", "score"}
)
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
HELP = "see the README's 'Bring your own catalogue' for a complete example"


class SchemaError(LookalikeError):
    """A schema file that cannot be used: the message names the file, the key and the fix."""


@dataclass(frozen=True)
class CatalogueSchema:
    """A catalogue's layout: the table file and the role of its columns.

    `category` is what precision, `category_mode=hard` and the soft category similarity use;
    `facets` are exact-match filters and `numeric` fields inclusive ranges; the image is a path
    `image_template` (with `{id}`) or the relative path (or URL) in `image_column`.
    """

    table: str
    id: str
    title: str
    category: str
    text: tuple[str, ...]
    facets: tuple[str, ...]
    category_path: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    phrase: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    image_template: str | None = None
    image_column: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """Every product field the catalogue keeps (the id first), in table order."""
        named = (
            self.id,
            *self.order,
            *self.facets,
            *self.numeric,
            self.title,
            *self.category_path,
            self.category,
            *self.text,
        )
        return tuple(dict.fromkeys(named))

    @property
    def text_fields(self) -> tuple[str, ...]:
        """The fields kept as text: all but the id and the numeric ones."""
        return tuple(f for f in self.fields[1:] if f not in self.numeric)

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every column the table must have."""
        image = (self.image_column,) if self.image_column else ()
        return (*self.fields, *image)

    @property
    def phrase_fields(self) -> tuple[str, ...]:
        """What a shopper might type about a product (default: the text fields but the title)."""
        return self.phrase or tuple(f for f in self.text if f != self.title)

    def as_dict(self) -> dict[str, Any]:
        """The schema in the TOML file's form (`GET /schema`, the stored copy)."""
        values = asdict(self)
        fields = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        image = {"template": fields.pop("image_template"), "column": fields.pop("image_column")}
        table = {"path": fields.pop("table")}
        return {
            "table": table,
            "fields": {k: v for k, v in fields.items() if v != []},
            "image": {k: v for k, v in image.items() if v is not None},
        }


def _strings(origin: str, section: Mapping[str, Any], key: str, required: bool) -> tuple[str, ...]:
    value = section.get(key, [] if not required else None)
    if value is None:
        raise SchemaError(f"{origin}: [fields] {key} is missing; list its column names; {HELP}")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SchemaError(f"{origin}: [fields] {key} must be a list of column names, got {value!r}")
    return tuple(value)


def _string(origin: str, section: Mapping[str, Any], where: str, key: str) -> str:
    value = section.get(key)
    if not isinstance(value, str) or not value:
        raise SchemaError(f"{origin}: {where} {key} must be a column name (a string); {HELP}")
    return value


def _check(origin: str, schema: CatalogueSchema) -> CatalogueSchema:
    suffix = Path(schema.table).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise SchemaError(
            f"{origin}: [table] path {schema.table!r} must end in one of "
            f"{', '.join(TABLE_FORMATS)} (the format is told by the extension)"
        )
    for column in schema.source_columns:
        if not FIELD_NAME.match(column):
            raise SchemaError(
                f"{origin}: column {column!r}: names must be 1-64 letters, digits or _ "
                "(not starting with a digit); rename the column in the table"
            )
        if column != schema.id and column in RESERVED:
            raise SchemaError(
                f"{origin}: column {column!r} is a name the catalogue uses itself "
                f"({', '.join(sorted(RESERVED))}); rename it in the table"
            )
    clash = sorted(set(schema.numeric) & {schema.title, schema.category, *schema.facets})
    if clash:
        raise SchemaError(f"{origin}: {', '.join(clash)} cannot be both numeric and text")
    if schema.id in schema.fields[1:]:
        raise SchemaError(f"{origin}: the id column {schema.id!r} is listed as another field too")
    if (schema.image_template is None) == (schema.image_column is None):
        raise SchemaError(
            f"{origin}: [image] needs exactly one of template (e.g. 'images/{{id}}.jpg') or "
            "column (a column holding each image's relative path or URL)"
        )
    if schema.image_template is not None and "{id}" not in schema.image_template:
        raise SchemaError(f"{origin}: [image] template must contain {{id}}")
    return schema


def schema_from_mapping(data: Mapping[str, Any], origin: str) -> CatalogueSchema:
    """A checked schema from the TOML file's tables (`origin` names the file in errors)."""
    table, fields, image = (data.get(k, {}) for k in ("table", "fields", "image"))
    if not all(isinstance(s, dict) for s in (table, fields, image)):
        raise SchemaError(f"{origin}: [table], [fields] and [image] must be tables; {HELP}")
    return _check(
        origin,
        CatalogueSchema(
            table=_string(origin, table, "[table]", "path"),
            id=_string(origin, fields, "[fields]", "id"),
            title=_string(origin, fields, "[fields]", "title"),
            category=_string(origin, fields, "[fields]", "category"),
            text=_strings(origin, fields, "text", required=True),
            facets=_strings(origin, fields, "facets", required=True),
            category_path=_strings(origin, fields, "category_path", required=False),
            numeric=_strings(origin, fields, "numeric", required=False),
            phrase=_strings(origin, fields, "phrase", required=False),
            order=_strings(origin, fields, "order", required=False),
            image_template=image.get("template"),
            image_column=image.get("column"),
        ),
    )


def load_schema(path: Path) -> CatalogueSchema:
    """The schema in a TOML file; SchemaError naming the file when it is missing or wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SchemaError(f"{path}: schema file not found; check --schema") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{path}: not a TOML file ({exc}); fix its syntax") from exc
    return schema_from_mapping(data, str(path))


def save_schema(schema: CatalogueSchema, folder: Path) -> None:
    """Store the schema with a catalogue build (`schema.json` in its folder)."""
    (folder / STORED_FILE).write_text(json.dumps(schema.as_dict(), indent=1) + "\n")


def catalogue_schema(catalog_dir: Path) -> CatalogueSchema:
    """The schema a catalogue was ingested with (the Fashion schema for older builds)."""
    path = catalog_dir / STORED_FILE
    if not path.is_file():
        return FASHION
    return schema_from_mapping(json.loads(path.read_text()), str(path))


FASHION = load_schema(FASHION_FILE)
