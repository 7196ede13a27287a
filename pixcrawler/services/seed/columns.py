"""The columns of each generated table, in the order of the values in its row tuples."""

PROFILE_COLUMNS = [
    "id", "email", "full_name", "avatar_url", "role", "tier", "created_at", "updated_at",
]  # fmt: skip
JOB_CHUNK_COLUMNS = [
    "id", "job_id", "chunk_index", "status", "priority", "image_range", "error_message",
    "retry_count", "task_id", "created_at", "updated_at",
]  # fmt: skip
PROJECT_COLUMNS = [
    "id", "name", "description", "user_id", "status", "created_at", "updated_at",
]  # fmt: skip
CRAWL_JOB_COLUMNS = [
    "id", "project_id", "name", "keywords", "max_images", "status", "progress", "total_images",
    "downloaded_images", "valid_images", "total_chunks", "active_chunks", "completed_chunks",
    "failed_chunks", "task_ids", "started_at", "completed_at", "created_at", "updated_at",
]  # fmt: skip
IMAGE_COLUMNS = [
    "id", "crawl_job_id", "original_url", "filename", "storage_url", "width", "height",
    "file_size", "format", "hash", "is_valid", "is_duplicate", "labels", "metadata",
    "downloaded_at", "created_at",
]  # fmt: skip
VALIDATION_JOB_COLUMNS = [
    "id", "crawl_job_id", "name", "status", "progress", "total_images", "validated_images",
    "invalid_images", "validation_rules", "started_at", "completed_at", "error_message",
    "created_at", "updated_at",
]  # fmt: skip
EXPORT_JOB_COLUMNS = [
    "id", "crawl_job_id", "user_id", "name", "status", "progress", "format", "total_images",
    "exported_images", "file_size", "download_url", "export_options", "started_at",
    "completed_at", "expires_at", "error_message", "created_at", "updated_at",
]  # fmt: skip
ACTIVITY_LOG_COLUMNS = [
    "id", "user_id", "action", "resource_type", "resource_id", "metadata", "timestamp",
]  # fmt: skip
