"""Every model, imported here so that Alembic's autogenerate sees the whole schema."""

from pixcrawler.models.activity_log import ActivityLog
from pixcrawler.models.admin_account import AdminAccount
from pixcrawler.models.admin_session import AdminSession
from pixcrawler.models.crawl_job import CrawlJob, JobStatus
from pixcrawler.models.export_job import ExportJob
from pixcrawler.models.image import Image
from pixcrawler.models.job_chunk import ChunkStatus, JobChunk
from pixcrawler.models.profile import Profile, Role, Tier
from pixcrawler.models.project import Project, ProjectStatus
from pixcrawler.models.validation_job import ValidationJob

__all__ = [
    "ActivityLog",
    "AdminAccount",
    "AdminSession",
    "ChunkStatus",
    "CrawlJob",
    "ExportJob",
    "Image",
    "JobChunk",
    "JobStatus",
    "Profile",
    "Project",
    "ProjectStatus",
    "Role",
    "Tier",
    "ValidationJob",
]
