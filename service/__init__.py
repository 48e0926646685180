"""Samverkan: collaboration agreements between Swedish municipalities and regions as BPMN processes."""
