"""Serializers shared by several apps' APIs."""

from rest_framework import serializers


class ContactRefSerializer(serializers.Serializer):
    """A customer or supplier as shown inside a document."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    identification = serializers.CharField()


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)
