-- root: packages/broken
SELECT * FROM pci_devices;
