"""MCP tasks on the server: task-augmented calls, the tasks extension, tasks asked of clients."""
