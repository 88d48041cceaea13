"""Wire sources: how one wire's feed items become Release records."""
