-- Reverts schema 3: IP lists and the defender's tables go.
DROP TABLE IF EXISTS `{{prefix}}defender_events`;
DROP TABLE IF EXISTS `{{prefix}}defender_hosts`;
DROP TABLE IF EXISTS `{{prefix}}ip_lists`;
