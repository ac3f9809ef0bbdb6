-- root: packages/empty
SELECT * FROM pci_devices;
