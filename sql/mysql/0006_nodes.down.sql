-- Reverts schema 6: the cluster tables go.
DROP TABLE IF EXISTS `{{prefix}}node_sessions`;
DROP TABLE IF EXISTS `{{prefix}}nodes`;
