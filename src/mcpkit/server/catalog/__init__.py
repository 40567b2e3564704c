"""What a server offers: tools, resources, prompts, views, skills, as specs in registries."""
