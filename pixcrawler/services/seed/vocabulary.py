"""What generated rows are made of: names, project themes and their crawl keywords, image hosts,
formats and sizes, and the weights that make the mix look real.

Everything is fixed here, the dates included (`ANCHOR`), so that a seed gives the same rows
whatever the day it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pixcrawler.models import JobStatus

# Seed data lives in the first half of 2026 whatever the date today: determinism over realism.
ANCHOR = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

FIRST_NAMES = (
    "Amira", "Ben", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kavya", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tamsin",
    "Uma", "Viktor", "Wen", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Schmidt", "Rossi", "Ivanova", "Haddad", "Tanaka", "Moreau", "Lindqvist", "Patel",
    "Nguyen", "Kowalski", "Garcia", "Murphy", "Novak", "Santos", "Fischer", "Costa", "Berg",
    "Duarte", "Yilmaz",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "lab.example.edu")

# (project theme, crawl keywords): what people actually build image datasets of.
THEMES = (
    ("Urban birds", ("house sparrow", "rock pigeon", "common starling", "carrion crow")),
    ("Dog breeds", ("golden retriever", "border collie", "beagle", "dachshund", "shiba inu")),
    ("Plant diseases", ("tomato leaf blight", "powdery mildew", "apple scab", "rust fungus")),
    ("Street signs", ("stop sign", "yield sign", "speed limit sign", "pedestrian crossing")),
    ("Vintage cars", ("citroen ds", "volkswagen beetle", "jaguar e-type", "fiat 500 1960s")),
    ("Wild mushrooms", ("fly agaric", "chanterelle", "porcini", "death cap")),
    ("Coral reefs", ("brain coral", "staghorn coral", "coral bleaching", "reef fish")),
    ("Retail shelves", ("supermarket shelf", "empty shelf", "price tag", "product facing")),
    ("Solar panel defects", ("solar panel crack", "hot spot thermal", "panel soiling")),
    ("Kitchen utensils", ("whisk", "ladle", "chef knife", "cast iron pan", "spatula")),
    ("Alpine flowers", ("edelweiss", "gentian", "alpine rose", "mountain avens")),
    ("Handwritten notes", ("handwritten letter", "whiteboard notes", "shopping list")),
)
PROJECT_SUFFIXES = ("dataset", "v2", "benchmark", "pilot", "2026", "training set", "eval set")
DESCRIPTIONS = (
    "Training data for a classifier prototype.",
    "Balanced set for the spring model refresh.",
    "Evaluation images collected for the paper's ablation study.",
    "Seed images for active learning; low-confidence cases get labelled by hand.",
    None,
)

# Image sources with the URL shapes those hosts really use.
HOSTS = ("unsplash", "wikimedia", "flickr", "pixabay", "pinimg")
HOST_WEIGHTS = (30, 20, 25, 15, 10)
FORMATS = ("jpg", "png", "webp")
FORMAT_WEIGHTS = (70, 20, 10)
# Bytes per pixel, roughly, for a photo in each format.
BYTES_PER_PIXEL = {"jpg": 0.22, "png": 1.1, "webp": 0.14}
SIZES = (
    (1920, 1080), (1280, 720), (1024, 768), (800, 600), (640, 480), (1600, 1200),
    (2048, 1365), (3000, 2000), (1080, 1350), (512, 512), (4032, 3024), (1200, 800),
)  # fmt: skip
STORAGE_BASE = "https://qzkvcrawlpx.supabase.co/storage/v1/object/public/datasets"
EXPORT_BASE = "https://qzkvcrawlpx.supabase.co/storage/v1/object/sign/exports"

TIERS, TIER_WEIGHTS = ("free", "pro", "enterprise"), (70, 25, 5)
CHUNK_ERRORS = (
    "HTTP 429 Too Many Requests from the image source after 3 retries",
    "connection reset by peer while downloading",
    "storage upload timed out after 30 s",
)
JOB_STATUS_WEIGHTS = {
    JobStatus.COMPLETED: 55,
    JobStatus.RUNNING: 15,
    JobStatus.PENDING: 12,
    JobStatus.FAILED: 10,
    JobStatus.CANCELLED: 8,
}
VALIDATION_RULES = {
    "min_width": 256,
    "min_height": 256,
    "formats": list(FORMATS),
    "max_file_size": 10 * 1024 * 1024,
    "deduplicate": True,
}
EXPORT_FORMATS = ("zip", "tar.gz", "coco-json")
