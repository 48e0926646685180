"""Joint bodies (styrgrupp, analysgrupp, länsnivå …), their members, meetings and protocol decisions."""
